"""A locked-out login and a refused admin page answer in the admin's look (429 and 403, saying
what to do), and an administrator who is not a superuser unlocks a locked-out account."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.support.actors import member as staff_member

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ATTEMPTS = "/admin/axes/accessattempt/"


def member(name: str, group: str):
    return staff_member(name, group, password=PASSWORD)


def login(client, username, password):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, secure=True
    )


def locked_out(settings, username="ana") -> Client:
    """A browser from which ``username`` gave a wrong password until locked out."""
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, username, "wrong").status_code == 200
    assert login(client, username, "wrong").status_code == 429
    return client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_locked_out_login_answers_429_in_the_admin_look_saying_when_and_whom_to_ask(settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    member("ana", "analyst")
    client = locked_out(settings)
    response = login(client, "ana", PASSWORD)  # the right password is refused too while locked
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    page = text_of(response)
    assert "sdgscore administration" in page  # the admin's header, not a bare text
    assert f"the password was wrong {settings.AXES_FAILURE_LIMIT} times" in page
    assert re.search(r"Try again in 30 minutes, after \d\d:\d\d UTC\.", page), page
    assert "ask an administrator of this site" in page
    assert 'href="/admin/login/"' in response.content.decode()
    assert client.get("/admin/", secure=True).status_code == 302  # still not signed in


def test_an_administrator_not_superuser_unlocks_and_the_user_then_logs_in(settings):
    member("ana", "analyst")
    ana = locked_out(settings)
    administrator = member("boss", "administrator")
    assert not administrator.is_superuser
    admin = signed_in(administrator)

    listing = admin.get(ATTEMPTS + "?locked_out=yes", secure=True)
    assert listing.status_code == 200
    assert "ana" in text_of(listing)
    attempt = AccessAttempt.objects.get(username="ana")
    confirm = admin.post(
        ATTEMPTS, {"action": "delete_selected", "_selected_action": [attempt.pk]}, secure=True
    )
    assert confirm.status_code == 200  # the confirmation page
    done = admin.post(
        ATTEMPTS,
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
        secure=True,
    )
    assert done.status_code == 302
    assert not AccessAttempt.objects.filter(username="ana").exists()

    assert login(ana, "ana", PASSWORD).status_code == 302
    assert ana.get("/admin/", secure=True).status_code == 200


@pytest.mark.parametrize("group", ["analyst", "reviewer"])
def test_other_staff_cannot_unlock_and_get_the_403_in_the_admin_look(settings, group):
    member("ana", "analyst")
    locked_out(settings)
    attempt = AccessAttempt.objects.get(username="ana")
    other = signed_in(member("someone", group))

    refused = other.get(ATTEMPTS, secure=True)
    assert refused.status_code == 403
    page = text_of(refused)
    assert "sdgscore administration" in page
    assert "You are signed in as someone, and your role does not allow this page" in page
    assert 'href="/admin/"' in refused.content.decode()

    deleting = other.post(
        ATTEMPTS,
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
        secure=True,
    )
    assert deleting.status_code == 403
    assert AccessAttempt.objects.filter(username="ana").exists()
    assert login(Client(), "ana", PASSWORD).status_code == 429  # still locked


def test_a_403_outside_the_admin_keeps_django_s_page(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from projects.admin.refusals import permission_denied

    request = rf.get("/en/")
    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert b"sdgscore administration" not in response.content
