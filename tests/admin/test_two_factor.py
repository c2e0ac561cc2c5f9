"""Two-factor authentication: required of reviewers and administrators, each person's own devices.

These tests log in through the real login form (password and code on one form); the rest of the
suite's ``force_login`` stands for a complete login, second factor included (tests/conftest.py).
"""

import runpy
from base64 import b32decode, b32encode
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from projects.services.two_factor import authenticator_confirm, authenticator_pending
from tests.admin.pages import form_data, parse
from tests.support.actors import member as staff_member

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
SETUP = "/admin/two-factor/"
LOGIN = "/admin/login/?next=/admin/"


def member(name: str, group: str | None = None, **flags):
    return staff_member(name, group, password=PASSWORD, **flags)


ROLES = {
    "reviewer": lambda: member("rita", "reviewer"),
    "administrator": lambda: member("adam", "administrator"),
    "superuser": lambda: member("sue", is_superuser=True),
}


def log_in(client, user, code=""):
    return client.post(LOGIN, {"username": user.username, "password": PASSWORD, "otp_token": code})


def app_code(key: bytes) -> str:
    return f"{totp(key):06d}"


def shown_key(page) -> bytes:
    """The key as the set-up page shows it for typing into an app."""
    return b32decode(parse(page.content).find("code", id="two-factor-secret").text.replace(" ", ""))


def shown_codes(page) -> list[str]:
    return [element.text for element in parse(page.content).find("ul", id="recovery-codes").find_all("code")]


def fresh_code(user) -> str:
    """The app's code now, as after waiting for the next one (each code is accepted only once)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    device.last_t = -1
    device.throttle_reset()
    return app_code(device.bin_key)


def enrolled(user) -> list[str]:
    """The user has set up an app (as the set-up page does); returns their recovery codes."""
    pending = authenticator_pending(user=user)
    return authenticator_confirm(device=pending, code=app_code(pending.bin_key))


def admin_urls() -> list[str]:
    """The admin's home, each app's page, each model's list, and a few of the site's own pages."""
    urls = ["/admin/", "/admin/password_change/", "/admin/projects/project/add/"]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse("admin:app_list", kwargs={"app_label": opts.app_label}))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return sorted(set(urls))


@pytest.mark.parametrize("role", ROLES)
def test_without_a_second_factor_a_reviewer_or_administrator_reaches_only_the_setup_page(client, role):
    user = ROLES[role]()
    logged_in = log_in(client, user)  # no device yet: the password is enough to get this far
    assert logged_in.status_code == 302
    for url in admin_urls():
        response = client.get(url)
        assert (response.status_code, response.get("Location")) == (302, SETUP), url
    page = client.get(SETUP)
    assert page.status_code == 200
    assert (
        parse(page.content)
        .find("img", id="two-factor-qr-code")
        .attrs["src"]
        .startswith("data:image/svg+xml;base64,")
    )
    assert "must use two-factor authentication" in page.content.decode()
    assert client.post("/admin/logout/").status_code == 200


def test_setting_up_takes_the_apps_first_code_and_then_every_login_asks_for_one(client):
    reviewer = ROLES["reviewer"]()
    log_in(client, reviewer)
    key = shown_key(client.get(SETUP))
    wrong = "000000" if app_code(key) != "000000" else "111111"

    refused = client.post(SETUP, {"code": wrong})
    assert refused.status_code == 200
    assert "That code is not right" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=reviewer, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302  # still only the set-up page

    TOTPDevice.objects.get(user=reviewer).throttle_reset()  # a wrong code slows the next try
    accepted = client.post(SETUP, {"code": app_code(key)})
    codes = [
        element.text for element in parse(accepted.content).find("ul", id="recovery-codes").find_all("code")
    ]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/admin/").status_code == 200  # this session proved the second factor

    client.post("/admin/logout/")
    assert log_in(client, reviewer).status_code == 200  # the password alone no longer does
    assert client.get("/admin/").status_code == 302
    assert log_in(client, reviewer, fresh_code(reviewer)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_setup_page_shows_the_key_only_until_it_is_confirmed(client):
    reviewer = ROLES["reviewer"]()
    log_in(client, reviewer)
    key = shown_key(client.get(SETUP))
    assert shown_key(client.get(SETUP)) == key  # a reload shows the same, not a new device each time
    client.post(SETUP, {"code": app_code(key)})
    again = client.get(SETUP).content.decode()
    assert b32encode(key).decode()[:16] not in again.replace(" ", "")
    assert 'id="two-factor-qr-code"' not in again and "Authenticator app" in again


def test_a_recovery_code_logs_in_once(client):
    reviewer = ROLES["reviewer"]()
    code = enrolled(reviewer)[3]
    assert log_in(client, reviewer, code.upper()).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout/")
    StaticDevice.objects.get(user=reviewer).throttle_reset()
    assert log_in(client, reviewer, code).status_code == 200
    assert client.get("/admin/").status_code == 302
    assert StaticToken.objects.filter(device__user=reviewer).count() == 9


def test_a_wrong_code_at_login_is_refused(client):
    analyst = member("ana", "analyst")
    enrolled(analyst)
    wrong = "000000" if fresh_code(analyst) != "000000" else "111111"
    refused = log_in(client, analyst, wrong)
    assert refused.status_code == 200 and "That code is not right" in refused.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_login_form_asks_for_the_code_without_a_choice_of_device(client):
    fields = {"csrfmiddlewaretoken", "username", "password", "otp_token", "next"}
    form = parse(client.get(LOGIN).content).find("form", id="login-form")
    assert set(form_data(form)) == fields and not form.find_all("select")
    reviewer = ROLES["reviewer"]()
    enrolled(reviewer)
    asked = log_in(client, reviewer)  # the right password without the code: the same form again
    assert "Enter the code from your authenticator app" in asked.content.decode()
    form = parse(asked.content).find("form", id="login-form")
    assert set(form_data(form)) == fields and not form.find_all("select")


def test_an_analyst_may_set_up_two_factor_but_need_not(client):
    analyst = member("ana", "analyst")
    assert log_in(client, analyst).status_code == 302
    assert client.get("/admin/").status_code == 200  # not required of analysts
    page = client.get(SETUP)
    assert page.status_code == 200 and "must use two-factor" not in page.content.decode()
    accepted = client.post(SETUP, {"code": app_code(shown_key(page))})
    assert accepted.status_code == 200 and 'id="recovery-codes"' in accepted.content.decode()
    client.post("/admin/logout/")
    assert log_in(client, analyst).status_code == 200  # having set it up, they give its code too


def test_removing_ones_own_second_factor_takes_a_fresh_code(client):
    analyst = member("ana", "analyst")
    enrolled(analyst)
    log_in(client, analyst, fresh_code(analyst))
    form = parse(client.get(SETUP).content).find("form", action="/admin/two-factor/remove/")
    field = next(name for name in form_data(form) if name.endswith("code"))
    refused = client.post("/admin/two-factor/remove/", {field: "12345"})
    assert "That code is not right" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=analyst).exists()
    client.post("/admin/two-factor/remove/", {field: fresh_code(analyst)})
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    assert not StaticDevice.objects.filter(user=analyst).exists()


def test_new_recovery_codes_replace_the_old_ones(client):
    analyst = member("ana", "analyst")
    old = enrolled(analyst)
    log_in(client, analyst, fresh_code(analyst))
    form = parse(client.get(SETUP).content).find("form", action="/admin/two-factor/recovery-codes/")
    field = next(name for name in form_data(form) if name.endswith("code"))
    page = client.post("/admin/two-factor/recovery-codes/", {field: fresh_code(analyst)})
    new = shown_codes(page)
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=analyst).values_list("token", flat=True)) == set(new)


def test_no_page_shows_anyone_elses_key_or_recovery_codes(client):
    victim = member("vic", "reviewer")
    codes = enrolled(victim)
    device = TOTPDevice.objects.get(user=victim)
    pending = authenticator_pending(user=member("pat", "analyst"))  # another, not yet confirmed
    secrets = codes + [device.key, pending.key]
    for one in (device, pending):
        base32 = b32encode(one.bin_key).decode()
        secrets += [base32, base32.lower(), " ".join(base32[i : i + 4] for i in range(0, len(base32), 4))]
    urls = [
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        f"/admin/otp_totp/totpdevice/{pending.pk}/change/",
        f"/admin/otp_totp/totpdevice/{device.pk}/delete/",
        f"/admin/otp_totp/totpdevice/{device.pk}/history/",
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
        f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/",
        "/admin/otp_static/staticdevice/",
        "/admin/otp_static/statictoken/",
        f"/admin/auth/user/{victim.pk}/change/",
        SETUP,
    ]
    viewers = [member("sue", is_superuser=True), member("adam", "administrator"), member("ana", "analyst")]
    for viewer in viewers:
        client.force_login(viewer)
        seen = 0
        for url in urls:
            response = client.get(url, follow=True)
            seen += response.status_code == 200
            content = response.content.decode()
            assert not [secret for secret in secrets if secret in content], (viewer.username, url)
        assert seen
    client.force_login(member("adam2", "administrator"))
    listed = client.get("/admin/otp_totp/totpdevice/").content.decode()
    assert "vic" in listed and "pat" in listed  # administrators do see who has a device


def test_an_administrator_resets_someones_second_factor_without_seeing_it(client):
    victim = member("vic", "reviewer")
    enrolled(victim)
    device = TOTPDevice.objects.get(user=victim)
    client.force_login(member("adam", "administrator"))
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").status_code == 200
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=victim).exists()
    assert not StaticDevice.objects.filter(user=victim).exists()  # recovery codes go with it
    client.post("/admin/logout/")
    assert log_in(client, victim).status_code == 302
    assert client.get("/admin/")["Location"] == SETUP  # they set up a new one at their next login


def test_nobody_adds_or_edits_a_device_in_the_device_list(client):
    client.force_login(member("sue", is_superuser=True))
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    device = TOTPDevice.objects.get(user__username="sue")
    page = parse(client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content)
    assert not [name for name in form_data(page) if name.startswith(("key", "user", "name"))]


def test_with_otp_required_off_two_factor_is_optional_as_before(client, settings):
    settings.DEBUG = True
    settings.OTP_REQUIRED = False
    superuser = ROLES["superuser"]()
    assert log_in(client, superuser).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(("debug", "required"), [("1", False), ("0", True)])
def test_otp_required_defaults_to_debug_being_off(monkeypatch, debug, required):
    monkeypatch.setenv("DEBUG", debug)
    monkeypatch.delenv("OTP_REQUIRED", raising=False)
    settings_file = Path(__file__).resolve().parents[2] / "sdgscore" / "settings.py"
    assert runpy.run_path(str(settings_file))["OTP_REQUIRED"] is required
