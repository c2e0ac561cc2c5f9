"""Webhook subscriptions and deliveries in the admin (issue 17): administrators only; every write
through the same service as the API (the field named, the limit per key, the secret shown once
and sealed, stale changes refused); deliveries read-only but for "redeliver"."""

import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from standardwebhooks.webhooks import Webhook

from projects.models import ApiKey, WebhookDelivery, WebhookSubscription
from projects.models.webhooks import MAX_SUBSCRIPTIONS_PER_KEY
from projects.services.webhooks import signing_secrets, subscription_create
from projects.webhooks.signing import signed_headers
from tests.support.actors import key_owner, member
from tests.support.builders import make_project
from tests.support.receiver import run_tasks, url

pytestmark = pytest.mark.django_db
LIST_URL = "/admin/projects/webhooksubscription/"
ADD_URL = LIST_URL + "add/"
DELIVERIES_URL = "/admin/projects/webhookdelivery/"


@pytest.fixture
def key(db):
    return ApiKey.issue(owner=key_owner(), name="Data desk", scope="read")[0]


@pytest.fixture
def administrator(client):
    client.force_login(member("admin1", "administrator"))
    return client


def form(key, **fields) -> dict:
    return {
        "api_key": key.pk,
        "url": "https://hooks.example.org/in",
        "events": ["project.published", "methodology.released"],
        "operators": "ispace, jaxa",
        "bodies": ["moon"],
        "enabled": "on",
        **fields,
    }


def test_an_administrator_subscribes_a_key_and_sees_the_secret_once(administrator, key):
    response = administrator.post(ADD_URL, form(key))
    assert response.status_code == 200, response.content[:400]
    assert "no-store" in response["Cache-Control"]
    secret = re.search(rb'id="webhook-secret">(whsec_[^<]+)<', response.content).group(1).decode()
    subscription = WebhookSubscription.objects.get()
    assert subscription.api_key == key and subscription.operators == ["ispace", "jaxa"]
    assert subscription.events == ["project.published", "methodology.released"]
    assert secret not in subscription.secret_sealed
    body = b"{}"
    Webhook(secret).verify(
        body, signed_headers(signing_secrets(subscription), "msg_1", int(time.time()), body)
    )
    page = administrator.get(f"{LIST_URL}{subscription.pk}/change/").content.decode()
    assert secret not in page


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"url": "http://hooks.example.org/in"}, "url", "https"),
        ({"url": "https://169.254.169.254/latest"}, "url", "link-local"),
        ({"events": []}, "events", ""),
        ({"operators": ",".join(f"op{i}" for i in range(101))}, "operators", "100"),
    ],
)
def test_a_bad_subscription_is_refused_with_the_field_named(administrator, key, fields, field, words):
    response = administrator.post(ADD_URL, form(key, **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and words in " ".join(errors[field])
    assert WebhookSubscription.objects.count() == 0


def test_the_limit_per_key_holds_in_the_admin_too(administrator, key):
    for index in range(MAX_SUBSCRIPTIONS_PER_KEY):
        subscription_create(
            key, {"url": f"https://hooks.example.org/{index}", "events": ["project.published"]}
        )
    response = administrator.post(ADD_URL, form(key))
    assert "delete one first" in " ".join(response.context["adminform"].form.errors["api_key"])
    assert WebhookSubscription.objects.count() == MAX_SUBSCRIPTIONS_PER_KEY


def test_a_change_goes_through_the_service_and_a_stale_one_is_refused(administrator, key):
    subscription, _secret = subscription_create(
        key, {"url": "https://a.example.org/", "events": ["project.published"]}
    )
    change_url = f"{LIST_URL}{subscription.pk}/change/"
    data = form(key, url="https://b.example.org/", read_version=subscription.version)
    data.pop("enabled")  # unticked: disabled by its key
    assert administrator.post(change_url, data).status_code == 302
    subscription.refresh_from_db()
    assert (subscription.url, subscription.enabled, subscription.version) == (
        "https://b.example.org/",
        False,
        2,
    )
    # Someone else's form, opened at version 1, is refused and changes nothing.
    stale = administrator.post(change_url, form(key, url="https://c.example.org/", read_version=1))
    assert stale.status_code == 200 and "changed since you read it" in stale.content.decode()
    subscription.refresh_from_db()
    assert subscription.url == "https://b.example.org/"


def test_deliveries_are_listed_and_redelivered(administrator, key, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = settings.WEBHOOK_ALLOW_HTTP = True
    subscription, _secret = subscription_create(key, {"url": url(receiver), "events": ["project.published"]})
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    page = administrator.get(f"{LIST_URL}{subscription.pk}/change/").content.decode()
    assert delivery.event.message_id in page
    detail = administrator.get(f"{DELIVERIES_URL}{delivery.pk}/change/").content.decode()
    assert "Delivered" in detail and delivery.event.message_id in detail

    response = administrator.post(
        DELIVERIES_URL, {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True
    )
    assert "1 delivery queued again." in response.content.decode()
    run_tasks()
    assert len(receiver.received) == 2
    assert len({request[1]["webhook-id"] for request in receiver.received}) == 1


def test_the_lists_cost_the_same_queries_for_more_rows(administrator, key):
    def queries(address: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert administrator.get(address).status_code == 200
        return len(captured)

    subscription_create(key, {"url": "https://hooks.example.org/0", "events": ["project.published"]})
    queries(LIST_URL)  # the session's first request does more
    few = queries(LIST_URL)
    for index in range(1, 8):
        subscription_create(
            key, {"url": f"https://hooks.example.org/{index}", "events": ["project.published"]}
        )
    assert queries(LIST_URL) == few


@pytest.mark.parametrize("role", ["analyst", "reviewer"])
def test_analysts_and_reviewers_do_not_manage_webhooks(client, key, role):
    client.force_login(member("someone", role))
    assert client.get(LIST_URL).status_code == 403
    assert client.get(DELIVERIES_URL).status_code == 403
