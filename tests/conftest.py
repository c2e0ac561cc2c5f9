"""Fixtures shared by the Django tests."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from projects.selectors import methodology_current
from tests.support.builders import EVIDENCE_SOURCE, interchange, project_record, rated

pytest_plugins = ["tests.support.receiver"]  # the loopback webhook endpoint fixture


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request in Japanese leaves Japanese active in
    its thread (LocaleMiddleware activates, nothing deactivates), which would leak into messages
    a later test reads outside a request."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: the site generation restarts with each test's
    rolled-back database, so cached pages and API answers of another test would look current,
    and throttle counts would carry over."""
    cache.clear()
    yield
    cache.clear()


def _uses_database(request) -> bool:
    return bool(
        request.node.get_closest_marker("django_db")
        or {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _acting_as_tester(request):
    """Every change has an actor: tests make theirs as the user ``tester`` through the shell
    channel, unless they state another (``projects.actors.acting``) or none (``nobody``)."""
    if not _uses_database(request):
        yield
        return
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from projects import actors
    from tests.support.actors import tester

    with actors.acting(tester(), actors.Channel.SHELL):
        yield


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch):
    """``client.force_login(staff)`` stands for a complete admin login, the second factor included
    (required of reviewers and administrators with DEBUG off): the user gets an authenticator app
    if they have none and the session counts as verified by it. Tests of the login itself post the
    real login form (tests/admin/test_two_factor.py)."""
    from django.test import Client

    log_in = Client.force_login

    def force_login(client, user, backend=None):
        log_in(client, user, backend)
        if user.is_staff:
            from django_otp import DEVICE_ID_SESSION_KEY
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            device = device or TOTPDevice.objects.create(user=user, name="Test authenticator")
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def method(db):
    """Method 1.0 as installed by the migration."""
    return methodology_current()


# The builders live in tests/support/builders.py; many test modules import them from here.
__all__ = ["EVIDENCE_SOURCE", "interchange", "project_record", "rated"]
