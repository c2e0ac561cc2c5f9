"""Production security defaults: headers, CSP, cookies, login throttling, optional TOTP."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.support.shared_data import built_once

pytestmark = pytest.mark.django_db

PAGES = ["/en/", "/en/methodology/", "/api/v1/projects", "/api/docs/", "/admin/login/"]


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """The demo data, once for the class's tests (tests/support/shared_data.py)."""
    with built_once(django_db_blocker, lambda: call_command("load_demo")):
        yield


@pytest.mark.usefixtures("demo")
class TestPagesOfTheDemo:
    """The pages are read in one test each kind, not one test each page: the demo data costs more
    than the requests."""

    def test_every_page_has_a_strict_content_security_policy(self, client):
        for path in PAGES:
            response = client.get(path, secure=True)
            header = response["Content-Security-Policy"]
            policy = dict(part.strip().split(" ", 1) for part in header.split(";"))
            assert policy["script-src"] == "'self'", path
            assert policy["style-src"] == "'self'", path
            assert policy["default-src"] == "'self'", path
            assert policy["frame-ancestors"] == "'none'", path
            assert "unsafe-inline" not in response["Content-Security-Policy"], path
            assert response["X-Frame-Options"] == "DENY", path

    def test_every_page_sends_the_transport_and_sniffing_headers(self, client):
        for path in PAGES:
            response = client.get(path, secure=True)
            hsts = response["Strict-Transport-Security"]
            assert hsts == "max-age=31536000; includeSubDomains; preload", path
            assert response["X-Content-Type-Options"] == "nosniff", path
            assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", path

    def test_the_badge_alone_may_be_embedded(self, client):
        response = client.get("/en/projects/moxie/badge.svg", secure=True)
        assert response.status_code == 200
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert "X-Frame-Options" not in response


def test_the_api_docs_load_no_inline_script(client):
    page = client.get("/api/docs/", secure=True).content.decode()
    assert "<script>" not in page and "<style>" not in page
    script = client.get("/api/docs/?script=", secure=True)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def make_staff(username="analyst", password="correct horse battery staple"):
    return get_user_model().objects.create_user(username, password=password, is_staff=True, is_superuser=True)


def login(client, username, password, **extra):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password, **extra}, secure=True
    )


def test_admin_session_cookies_are_secure_httponly_and_expire(client):
    make_staff()
    response = login(client, "analyst", "correct horse battery staple")
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["max-age"] == ""  # a browser-session cookie, and the server ends it after 8 hours
    assert client.session.get_expiry_age() == 8 * 60 * 60


def test_admin_login_is_locked_after_repeated_failures(client, settings):
    make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "analyst", "wrong").status_code == 200
    assert login(client, "analyst", "wrong").status_code == 429  # the limit-th failure locks
    locked = login(client, "analyst", "correct horse battery staple")
    assert locked.status_code == 429
    assert client.get("/admin/", secure=True).status_code == 302  # still not logged in


def test_a_success_before_the_limit_resets_the_count(client, settings):
    make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "analyst", "wrong")
    assert login(client, "analyst", "correct horse battery staple").status_code == 302


def test_staff_without_a_totp_device_log_in_with_a_password(client):
    # Analysts may use a second factor but need not; reviewers and administrators must
    # (tests/admin/test_two_factor.py).
    get_user_model().objects.create_user("analyst", password="correct horse battery staple", is_staff=True)
    assert login(client, "analyst", "correct horse battery staple").status_code == 302
    assert client.get("/admin/", secure=True).status_code == 200


def test_staff_with_a_totp_device_need_its_code(client):
    user = make_staff()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    refused = login(client, "analyst", "correct horse battery staple")
    assert refused.status_code == 200  # the form again, asking for the code
    assert client.get("/admin/", secure=True).status_code == 302
    wrong = login(
        client,
        "analyst",
        "correct horse battery staple",
        otp_device=device.persistent_id,
        otp_token="000000" if totp(device.bin_key) != 0 else "111111",
    )
    assert wrong.status_code == 200
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows retries after a wrong code; a real user waits
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    accepted = login(
        client, "analyst", "correct horse battery staple", otp_device=device.persistent_id, otp_token=code
    )
    assert accepted.status_code == 302
    assert client.get("/admin/", secure=True).status_code == 200


def test_request_bodies_are_bounded(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    make_staff()
    login(client, "analyst", "correct horse battery staple")
    response = client.post("/api/v1/projects", data="x" * 5000, content_type="application/json", secure=True)
    assert response.status_code in (400, 401, 413)
    assert response["Content-Type"] == "application/problem+json"
