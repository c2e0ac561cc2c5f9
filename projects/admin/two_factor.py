"""Each staff member's own two-factor page in the admin: set up, new recovery codes, remove.

Every staff member reaches *Two-factor authentication* (linked from the admin's home page) for
their own devices only: set up an authenticator app (its QR code shows only while it is being set
up, to its owner), replace the recovery codes, or remove the second factor — each with a fresh
code. Nobody else's devices appear here; administrators reset them from the device list.
"""

from base64 import b64encode
from io import BytesIO

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views import View

from projects.services.two_factor import (
    RECOVERY_CODES,
    CodeThrottled,
    authenticator_confirm,
    authenticator_of,
    authenticator_pending,
    authenticator_secret,
    recovery_codes_left,
    recovery_codes_renew,
    two_factor_required,
    two_factor_reset,
    two_factor_verify,
)

WRONG_CODE = _("That code is not right, or it has been used already.")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )


def qr_code_image(text: str) -> str:
    """A QR code as a data: URL (an SVG with its own white ground), which the CSP allows as an image."""
    svg = BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, border=4).save(svg)
    return "data:image/svg+xml;base64," + b64encode(svg.getvalue()).decode()


class SiteView(View):
    """A page of the admin site, for the signed-in staff member's own second factor."""

    site = None

    def render(self, template: str, **context) -> TemplateResponse:
        return TemplateResponse(self.request, template, {**self.site.each_context(self.request), **context})

    def manage_page(self, *, renew_form=None, remove_form=None) -> TemplateResponse:
        user = self.request.user
        return self.render(
            "admin/two_factor/manage.html",
            title=_("Two-factor authentication"),
            authenticator=authenticator_of(user),
            recovery_codes_left=recovery_codes_left(user),
            required=two_factor_required(user),
            renew_form=renew_form or CodeForm(prefix="renew"),
            remove_form=remove_form or CodeForm(prefix="remove"),
        )

    def recovery_codes_page(self, codes: list[str]) -> TemplateResponse:
        return self.render(
            "admin/two_factor/recovery_codes.html", title=_("Your recovery codes"), codes=codes
        )

    def verified(self, form: CodeForm) -> bool:
        """The form holds a code that one of the user's own devices accepts."""
        if not form.is_valid():
            return False
        try:
            device = two_factor_verify(user=self.request.user, code=form.cleaned_data["code"])
        except CodeThrottled as throttled:
            form.add_error("code", str(throttled))
            return False
        if device is None:
            form.add_error("code", WRONG_CODE)
        return device is not None


class TwoFactorView(SiteView):
    """Set up an authenticator app (QR code, first code, recovery codes), or manage the one set up."""

    http_method_names = ["get", "post"]

    def get(self, request):
        if authenticator_of(request.user) is not None:
            return self.manage_page()
        return self.setup_page(authenticator_pending(user=request.user), CodeForm())

    def post(self, request):
        if authenticator_of(request.user) is not None:
            return redirect("admin:two_factor")
        pending = authenticator_pending(user=request.user)
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                codes = authenticator_confirm(device=pending, code=form.cleaned_data["code"])
            except CodeThrottled as throttled:
                form.add_error("code", str(throttled))
            else:
                if codes is not None:
                    pending.refresh_from_db()
                    request.session.cycle_key()  # a session that gains the second factor gets a new id
                    django_otp.login(request, pending)
                    return self.recovery_codes_page(codes)
                form.add_error("code", WRONG_CODE)
        return self.setup_page(pending, form)

    def setup_page(self, pending, form: CodeForm) -> TemplateResponse:
        return self.render(
            "admin/two_factor/setup.html",
            title=_("Set up two-factor authentication"),
            required=two_factor_required(self.request.user),
            qr_code=qr_code_image(pending.config_url),
            secret=authenticator_secret(pending),
            form=form,
            recovery_count=RECOVERY_CODES,
        )


class RecoveryCodesView(SiteView):
    """New recovery codes for a fresh code; the old ones stop working."""

    http_method_names = ["post"]

    def post(self, request):
        form = CodeForm(request.POST, prefix="renew")
        if authenticator_of(request.user) is None or not self.verified(form):
            return self.manage_page(renew_form=form)
        return self.recovery_codes_page(recovery_codes_renew(user=request.user))


class TwoFactorRemoveView(SiteView):
    """Remove one's own second factor for a fresh code (a new phone is set up afresh)."""

    http_method_names = ["post"]

    def post(self, request):
        form = CodeForm(request.POST, prefix="remove")
        if authenticator_of(request.user) is None or not self.verified(form):
            return self.manage_page(remove_form=form)
        two_factor_reset(user=request.user)
        messages.success(request, _("Two-factor authentication is removed from your account."))
        return redirect("admin:index")
