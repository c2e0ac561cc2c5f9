"""The admin site: Django's, with a second factor (django-otp) asked at login on the same form.

Reviewers, administrators and superusers must have one when OTP_REQUIRED is on (the default
with DEBUG off): without it, a correct password opens only the page where they set it up. Other
staff may set one up too; whoever has one must give its code at every login. Each person sets
up and manages their own (projects/admin/two_factor.py); the device list shows administrators
who has one, to reset it, and never a key. Failed logins are throttled by django-axes.
"""

from functools import update_wrapper

from django import forms
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device

from projects.services.two_factor import (
    CodeThrottled,
    two_factor_missing,
    two_factor_reset,
    two_factor_verify,
)


class TwoFactorAuthenticationForm(AdminAuthenticationForm):
    """Password and, for whoever has a second factor, its code: one form, no device to choose."""

    otp_token = forms.CharField(
        label=_("Two-factor code"),
        required=False,
        max_length=32,
        help_text=_(
            "The code your authenticator app shows, or one of your recovery codes. "
            "Leave it empty if you have not set up two-factor authentication."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "code_required": _("Enter the code from your authenticator app, or a recovery code."),
        "code_invalid": _("That code is not right, or it has been used already."),
    }

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user):
            code = cleaned_data.get("otp_token")
            if not code:
                raise forms.ValidationError(self.error_messages["code_required"], code="code_required")
            try:
                device = two_factor_verify(user=user, code=code)
            except CodeThrottled as throttled:
                raise forms.ValidationError(str(throttled), code="code_throttled") from None
            if device is None:
                raise forms.ValidationError(self.error_messages["code_invalid"], code="code_invalid")
            user.otp_device = device  # django-otp keeps it in the session when Django logs the user in
        return cleaned_data


class AuthenticatorAdmin(admin.ModelAdmin):
    """Who has set up an authenticator app, for administrators: no key, no change, no adding
    (each person sets up their own); deleting one resets that person's second factor."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = list_display
    readonly_fields = list_display
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        two_factor_reset(user=obj.user)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            two_factor_reset(user=device.user)


# What this site registers in place of django-otp's device admins, which show every user's key
# and recovery codes (None: nothing; recovery codes are reset with the authenticator).
DEVICE_ADMINS = {"otp_totp.TOTPDevice": AuthenticatorAdmin, "otp_static.StaticDevice": None}


class SdgscoreAdminSite(AdminSite):
    site_header = _("sdgscore administration")
    site_title = _("sdgscore admin")
    index_title = _("Ratings of space-resource projects")
    index_template = "admin/two_factor/index.html"
    login_form = TwoFactorAuthenticationForm
    login_template = "admin/two_factor/login.html"

    def has_permission(self, request):
        user = request.user
        if not super().has_permission(request):
            return False
        return user.is_verified() or not user_has_device(user)

    def admin_view(self, view, cacheable=False):
        """Every admin view, except the few marked ``before_second_factor``, first sends someone
        who must use a second factor and has none to the page that sets it up."""
        if getattr(view, "before_second_factor", False):
            return super().admin_view(view, cacheable)

        def second_factor_first(request, *args, **kwargs):
            if not request.user.is_verified() and two_factor_missing(request.user):
                return redirect("admin:two_factor", permanent=False)
            return view(request, *args, **kwargs)

        return super().admin_view(update_wrapper(second_factor_first, view), cacheable)

    def index(self, request, extra_context=None):
        from projects.admin.review import queues

        return super().index(request, {"work_queues": queues(request), **(extra_context or {})})

    def logout(self, request, extra_context=None):
        return super().logout(request, extra_context)

    logout.before_second_factor = True

    def get_urls(self):
        from projects.admin.two_factor import RecoveryCodesView, TwoFactorRemoveView, TwoFactorView

        setup = TwoFactorView.as_view(site=self)
        setup.before_second_factor = True  # the one page open to whoever must set a second factor up
        urls = [
            path("two-factor/", self.admin_view(setup), name="two_factor"),
            path(
                "two-factor/recovery-codes/",
                self.admin_view(RecoveryCodesView.as_view(site=self)),
                name="two_factor_recovery_codes",
            ),
            path(
                "two-factor/remove/",
                self.admin_view(TwoFactorRemoveView.as_view(site=self)),
                name="two_factor_remove",
            ),
        ]
        return urls + super().get_urls()

    def register(self, model_or_iterable, admin_class=None, **options):
        """django-otp's device admins are replaced by DEVICE_ADMINS, whichever app comes first."""
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        for model in models:
            if model._meta.label in DEVICE_ADMINS:
                replacement = DEVICE_ADMINS[model._meta.label]
                if replacement is not None:
                    super().register(model, replacement)
            else:
                super().register(model, admin_class, **options)
