"""Webhook subscriptions (issue 17): checked on every write with the field named; the signing
secret shown once and sealed at rest; rotation with a grace period; stale writes refused."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from projects.models import ApiKey, WebhookSubscription
from projects.models.webhooks import MAX_SUBSCRIPTIONS_PER_KEY
from projects.services.errors import InvalidInput
from projects.services.webhooks import (
    StaleSubscription,
    TooManySubscriptions,
    signing_secrets,
    subscription_change,
    subscription_create,
    subscription_delete,
    subscription_rotate,
)
from projects.webhooks.signing import signed_headers
from tests.support.actors import reviewer_user

pytestmark = pytest.mark.django_db
GOOD = {"url": "https://hooks.example.org/sdgscore", "events": ["project.published", "project.withdrawn"]}


@pytest.fixture
def key(db):
    return ApiKey.issue(owner=reviewer_user(), name="Newsroom", scope="read")[0]


def test_a_subscription_keeps_its_secret_sealed_and_signs_with_it(key):
    subscription, secret = subscription_create(key, {**GOOD, "bodies": ["moon"], "operators": ["jaxa"]})
    stored = WebhookSubscription.objects.get()
    assert secret.startswith("whsec_") and secret not in stored.secret_sealed
    assert (stored.events, stored.bodies, stored.operators, stored.enabled) == (
        GOOD["events"],
        ["moon"],
        ["jaxa"],
        True,
    )
    body = b'{"type": "project.published"}'
    headers = signed_headers(signing_secrets(stored), "msg_1", int(timezone.now().timestamp()), body)
    Webhook(secret).verify(body, headers)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"url": "http://hooks.example.org/x"}, "url", "https"),
        ({"url": "https://127.0.0.1/x"}, "url", "loopback"),
        ({"url": "https://169.254.169.254/latest"}, "url", "link-local"),
        ({"url": "https://[::1]:8443/x"}, "url", "loopback"),
        ({"url": "https://user:pw@hooks.example.org/"}, "url", "user name"),
        ({"url": "https://hooks.example.org:99999/"}, "url", "Not a URL"),
        ({"url": "https://[::1/"}, "url", "Not a URL"),
        ({"url": "https://x.org/" + "a" * 2000}, "url", "2000"),
        ({"url": ""}, "url", "URL"),
        ({"events": []}, "events", "at least one"),
        ({"events": ["project.renamed"]}, "events", "Unknown event types"),
        ({"events": ["project.published", "project.published"]}, "events", "once"),
        ({"events": "project.published"}, "events", "list"),
        ({"bodies": ["pluto"]}, "bodies", "Unknown target bodies"),
        ({"operators": [1]}, "operators", "list"),
        ({"secret": "mine"}, "secret", "Unknown field"),
        ({"enabled": "yes"}, "enabled", "true or false"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(key, settings, change, field, words):
    settings.WEBHOOK_ALLOW_HTTP, settings.WEBHOOK_ALLOW_PRIVATE = False, False
    with pytest.raises(InvalidInput) as refused:
        subscription_create(key, {**GOOD, **change})
    assert field in refused.value.errors and words in refused.value.errors[field][0]
    assert not WebhookSubscription.objects.exists()


def test_loopback_and_http_when_allowed(key, settings):
    settings.WEBHOOK_ALLOW_HTTP, settings.WEBHOOK_ALLOW_PRIVATE = True, True
    subscription, _ = subscription_create(key, {**GOOD, "url": "http://127.0.0.1:9000/in"})
    assert subscription.url == "http://127.0.0.1:9000/in"


def test_rotation_signs_with_both_secrets_for_the_grace_period(key):
    subscription, old = subscription_create(key, GOOD)
    subscription, new = subscription_rotate(subscription, version=subscription.version)
    assert new != old and subscription.version == 2
    body, now = b"{}", timezone.now()
    headers = signed_headers(signing_secrets(subscription, now), "msg_2", int(now.timestamp()), body)
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    later = subscription.previous_until + timedelta(seconds=1)
    assert signing_secrets(subscription, later) == [new]


def test_stale_writes_are_refused(key):
    subscription, _ = subscription_create(key, GOOD)
    subscription_change(subscription, {"events": ["methodology.released"]}, version=1)
    with pytest.raises(StaleSubscription):
        subscription_change(subscription, {"events": ["project.published"]}, version=1)
    with pytest.raises(StaleSubscription):
        subscription_rotate(subscription, version=1)
    with pytest.raises(StaleSubscription):
        subscription_delete(subscription, version=1)
    stored = WebhookSubscription.objects.get()
    assert stored.events == ["methodology.released"] and stored.version == 2
    subscription_delete(stored, version=2)
    assert not WebhookSubscription.objects.exists()


def test_disabling_and_enabling_again_clears_the_failures(key):
    subscription, _ = subscription_create(key, GOOD)
    subscription = subscription_change(subscription, {"enabled": False}, version=1)
    assert not subscription.enabled and subscription.disabled_reason == "disabled by its key"
    WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=timezone.now())
    subscription.refresh_from_db()
    subscription = subscription_change(subscription, {"enabled": True}, version=subscription.version)
    assert subscription.enabled and subscription.failing_since is None


def test_a_key_has_a_bounded_number_of_subscriptions(key):
    for index in range(MAX_SUBSCRIPTIONS_PER_KEY):
        subscription_create(key, {**GOOD, "url": f"https://hooks.example.org/{index}"})
    with pytest.raises(TooManySubscriptions):
        subscription_create(key, GOOD)
