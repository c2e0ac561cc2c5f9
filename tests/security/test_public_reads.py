"""Sessions and sign-in only where they serve: a public read (a page under /en/ or /ja/, an API
GET) never loads, writes or varies on a session, even with an administrator's cookie; the admin
and every write still go through CSRF, sign-in, the login lockout and the audit context."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from tests.api import conftest as api_fixtures
from tests.security.test_http_hardening import bearer, new_project

published, write_key = api_fixtures.published, api_fixtures.write_key

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 -- a test user's


def staff(username="analyst"):
    return get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True, is_superuser=True)


def session_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "django_session" in q["sql"] or "auth_user" in q["sql"]]


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
@pytest.mark.parametrize(
    "path", ["/en/", "/ja/", "/en/projects/{slug}/", "/api/v1/projects", "/api/v1/projects/{slug}"]
)
def test_a_public_read_leaves_a_signed_in_session_alone(client, published, settings, path, cached):
    settings.RESPONSE_CACHE = cached
    client.force_login(staff())
    url = path.format(slug=published[0])
    for _ in range(2):  # the second from the server-side cache when it is on
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, secure=True)
        assert response.status_code == 200
        assert session_queries(queries) == []
        assert not response.cookies  # no Set-Cookie: no session, CSRF or message cookie
        assert "Cookie" not in response.get("Vary", "")


def test_the_admin_still_reads_its_session(client):
    client.force_login(staff())
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/", secure=True).status_code == 200
    assert session_queries(queries)


def test_an_admin_write_without_the_csrf_token_is_refused(published):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff())
    project = Project.objects.get(slug=published[0])
    response = client.post(f"/admin/projects/project/{project.pk}/change/", {"name": "Renamed"}, secure=True)
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name != "Renamed"


def test_admin_logins_are_still_locked_out_after_repeated_failures(client, settings):
    staff()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/?next=/admin/", {"username": "analyst", "password": "wrong"}, secure=True)
    locked = client.post(
        "/admin/login/?next=/admin/", {"username": "analyst", "password": PASSWORD}, secure=True
    )
    assert locked.status_code == 429


def test_an_api_write_needs_a_key_and_is_audited_within_its_request(client, write_key):
    assert client.post("/api/v1/projects", new_project(), content_type="application/json").status_code == 401
    response = client.post(
        "/api/v1/projects",
        new_project(),
        content_type="application/json",
        HTTP_X_CORRELATION_ID="hera-7",
        **bearer(write_key),
    )
    assert response.status_code == 201
    project = Project.objects.get(slug="hera-rover")
    entry = LogEntry.objects.get_for_object(project).get(action=LogEntry.Action.CREATE)
    assert entry.actor == write_key[0].owner
    assert entry.cid == "hera-7"  # the request's audit context (auditlog's middleware) was there


@pytest.mark.parametrize(
    "path", ["/en/", "/en/projects/{slug}/", "/api/v1/projects", "/healthz", "/admin/login/"]
)
def test_the_content_security_policy_is_django_csps_own(client, published, settings, path):
    """The policy built once per process is the one django-csp builds for each response,
    the project page's own change to it (frame-ancestors) included."""
    url = path.format(slug=published[0])
    settings.RESPONSE_CACHE = False
    ours = client.get(url, secure=True)
    settings.MIDDLEWARE = [
        "csp.middleware.CSPMiddleware"
        if name == "projects.middleware.ContentSecurityPolicyMiddleware"
        else name
        for name in settings.MIDDLEWARE
    ]
    theirs = client.get(url, secure=True)
    assert ours.status_code == theirs.status_code == 200
    for header in ("Content-Security-Policy", "Content-Security-Policy-Report-Only"):
        assert ours.get(header) == theirs.get(header)
    assert ours.has_header("Content-Security-Policy")
