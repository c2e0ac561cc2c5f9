"""Staff two-factor authentication: who must use it, and each person's own devices (django-otp).

A staff member's second factor is one authenticator app (a TOTP device) and, with it, a set of
one-time recovery codes (a static device) for the day the phone is lost. Both are made by their
owner only; an administrator may take them away (a reset), never read them.
"""

from base64 import b32encode

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


class CodeThrottled(Exception):
    """Too many wrong codes in a row: django-otp refuses to check another for a while."""


def two_factor_required(user) -> bool:
    """Reviewers (who publish), administrators (who manage users) and superusers must use a
    second factor when OTP_REQUIRED is on (the default with DEBUG off); analysts may."""
    if not settings.OTP_REQUIRED or not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.has_perm("projects.publish_project") or user.has_perm("auth.change_user")


def two_factor_missing(user) -> bool:
    """The user must use a second factor and has none yet: they may only set one up."""
    return two_factor_required(user) and not user_has_device(user)


def authenticator_of(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def authenticator_pending(*, user) -> TOTPDevice:
    """The device being set up: made once, so that reloading the page shows the same QR code."""
    pending = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    return pending or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def authenticator_secret(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it typed in: base32, in groups of four."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[start : start + 4] for start in range(0, len(key), 4))


@transaction.atomic
def authenticator_confirm(*, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending device with its first code; it replaces the owner's previous devices.

    Returns the new recovery codes (to be shown once), or None when the code is wrong.
    """
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
    if device is None or not _verify(device, _normalized(code)):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_renew(user=device.user)


@transaction.atomic
def recovery_codes_renew(*, user) -> list[str]:
    """A fresh set of recovery codes; the old ones stop working. Only their owner sees them."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_recovery_code() for _count in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_verify(*, user, code: str) -> Device | None:
    """The device that accepts ``code`` — the authenticator's current code or an unused recovery
    code (used up by this) — or None. Raises CodeThrottled after too many wrong codes.

    The code's form says which device to ask, so nobody has to choose one and a wrong guess
    throttles only the device it was meant for.
    """
    code = _normalized(code)
    model = TOTPDevice if code.isdigit() else StaticDevice
    device = model.objects.devices_for_user(user, confirmed=True).select_for_update().first()
    if device is None:
        return None
    return device if _verify(device, code) else None


@transaction.atomic
def two_factor_reset(*, user) -> None:
    """Take away a user's second factor (a lost phone, or their own wish); they set up a new one."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _verify(device: Device, code: str) -> bool:
    allowed, _detail = device.verify_is_allowed()
    if not allowed:
        raise CodeThrottled(_("Too many wrong codes: wait a minute, then try again."))
    return bool(code) and device.verify_token(code)


def _normalized(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_code() -> str:
    # Base32 with at least one letter, so that it can never be taken for an authenticator's code.
    code = StaticToken.random_token()
    while code.isdigit():
        code = StaticToken.random_token()
    return code
