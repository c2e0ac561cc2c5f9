"""A webhook subscription's delivery log and redelivery through the API (issue 17): the key's
own deliveries only, every attempt shown, the state filter checked, redelivery sends the same
event again; the list costs the same number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from projects.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.support.builders import make_project
from tests.support.receiver import run_tasks, url

from .conftest import assert_problem, error_fields

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks"


@pytest.fixture(autouse=True)
def loopback(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_ALLOW_HTTP = True


def subscribe(client, receiver, events=("project.published", "project.withdrawn")):
    response = client.post(URL, {"url": url(receiver), "events": list(events)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_log_shows_each_delivery_and_attempt(reader, receiver):
    subscription = subscribe(reader, receiver)
    receiver.behaviour = lambda count: "fail" if count == 1 else "ok"
    make_project("alpha")
    run_tasks()
    log = reader.get(f"{URL}/{subscription['id']}/deliveries").json()
    (delivery,) = log["results"]
    event = WebhookEvent.objects.get()
    assert delivery["event"] == {
        "id": event.message_id,
        "type": "project.published",
        "created_at": delivery["event"]["created_at"],
    }
    assert delivery["state"] == "pending" and delivery["attempts"] == 1 and delivery["next_attempt_at"]
    assert [(a["attempt"], a["outcome"], a["status"]) for a in delivery["log"]] == [(1, "failed", 500)]
    assert delivery["last_error"] == "answered 500"

    detail = reader.get(f"{URL}/{subscription['id']}/deliveries/{delivery['id']}").json()
    assert detail["body"]["id"] == event.message_id and detail["body"]["data"]["slug"] == "alpha"

    redelivered = reader.post(f"{URL}/{subscription['id']}/deliveries/{delivery['id']}/redeliver")
    assert redelivered.status_code == 202, redelivered.content
    run_tasks()
    after = reader.get(f"{URL}/{subscription['id']}/deliveries?state=delivered").json()["results"]
    assert [(a["attempt"], a["outcome"]) for a in after[0]["log"]] == [(1, "failed"), (2, "delivered")]
    assert reader.get(f"{URL}/{subscription['id']}/deliveries?state=pending").json()["results"] == []
    assert len({request[1]["webhook-id"] for request in receiver.received}) == 1


def test_another_key_sees_and_redelivers_nothing_of_it(reader, writer, receiver):
    subscription = subscribe(reader, receiver)
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    base = f"{URL}/{subscription['id']}/deliveries"
    assert_problem(writer.get(base), 404)
    assert_problem(writer.get(f"{base}/{delivery.pk}"), 404)
    assert_problem(writer.post(f"{base}/{delivery.pk}/redeliver"), 404)
    # A key's own subscription does not open another subscription's delivery either.
    own = subscribe(writer, receiver)
    assert_problem(writer.get(f"{URL}/{own['id']}/deliveries/{delivery.pk}"), 404)
    assert_problem(writer.post(f"{URL}/{own['id']}/deliveries/{delivery.pk}/redeliver"), 404)
    assert WebhookDelivery.objects.get().attempts == 1


@pytest.mark.parametrize("query", ["state=lost", "state=pending&state=failed", "colour=red", "page=0"])
def test_bad_parameters_are_named(reader, receiver, query):
    subscription = subscribe(reader, receiver)
    body = assert_problem(reader.get(f"{URL}/{subscription['id']}/deliveries?{query}"), 400)
    assert error_fields(body) == {query.split("=")[0]}


def test_redelivery_of_a_disabled_subscription_is_refused(reader, receiver):
    subscription = subscribe(reader, receiver)
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    WebhookSubscription.objects.filter(pk=subscription["id"]).update(
        disabled_at=timezone.now(),
        disabled_reason="failing for a day: enable it again when the endpoint answers",
    )
    body = assert_problem(reader.post(f"{URL}/{subscription['id']}/deliveries/{delivery.pk}/redeliver"), 409)
    assert "enable it first" in body["detail"]
    shown = reader.get(f"{URL}/{subscription['id']}").json()
    assert shown["enabled"] is False and "failing for a day" in shown["disabled_reason"]


def test_the_log_costs_the_same_queries_for_any_page_size(reader, receiver):
    subscription = subscribe(reader, receiver)
    for index in range(12):
        make_project(f"p{index}")
    run_tasks()
    base = f"{URL}/{subscription['id']}/deliveries"

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = reader.get(f"{base}?page_size={size}")
        assert len(response.json()["results"]) == size
        return len(captured)

    assert queries(2) == queries(12)


def test_deliveries_verify_with_the_secret_the_api_gave(reader, receiver):
    subscription = subscribe(reader, receiver)
    make_project("alpha")
    run_tasks()
    _path, headers, body = receiver.received[0]
    payload = Webhook(subscription["secret"]).verify(body, {k.lower(): v for k, v in headers.items()})
    assert payload["type"] == "project.published"
