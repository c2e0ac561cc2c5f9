"""The admin site: Django's, with an optional TOTP second factor for staff (django-otp).

A staff member who has registered a TOTP device (Admin → TOTP devices) must give its current
code at every login; one without a device logs in with a password alone. Failed logins are
throttled by django-axes (see settings).
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm


class OptionalOTPAuthenticationForm(OTPAdminAuthenticationForm):
    """Password, then the device's code — asked only of users who have registered a device."""

    def clean(self):
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is not None and user_has_device(user):
            self.clean_otp(user)
        return self.cleaned_data


class SdgscoreAdminSite(AdminSite):
    site_header = _("sdgscore administration")
    site_title = _("sdgscore admin")
    index_title = _("Ratings of space-resource projects")
    login_form = OptionalOTPAuthenticationForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request):
        user = request.user
        if not super().has_permission(request):
            return False
        return user.is_verified() or not user_has_device(user)
