"""Webhook events and deliveries (issue 17): an event recorded with its change, whatever the
channel; fanned out to the subscriptions that want it; each delivery sent by the task workers at
least once with the same id, signed so that the reference library verifies it; retried with
backoff; given up after a day; the subscription disabled after a day of failures; a worker that
dies during an attempt replaced; redelivered on request."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from standardwebhooks.webhooks import Webhook

from projects.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from projects.models.webhooks import EVENT_TYPES
from projects.services import webhook_delivery, webhook_events
from projects.services.webhook_delivery import (
    DeliveryBusy,
    SubscriptionDisabled,
    delivery_redeliver,
    delivery_send,
    event_fan_out,
)
from projects.services.webhooks import subscription_change, subscription_create
from tests.support.actors import key_owner, publish_as_reviewer, withdraw_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.support.receiver import WEBHOOK_TASKS, run_tasks, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    settings.WEBHOOK_ALLOW_HTTP = True
    return ApiKey.issue(owner=key_owner(), name="Newsroom", scope="read")[0]


@pytest.fixture
def subscribed(key, receiver):
    """A subscription to every event at the loopback receiver: (subscription, secret)."""
    return subscription_create(key, {"url": url(receiver), "events": list(EVENT_TYPES)})


def due_now(delivery: WebhookDelivery) -> None:
    """The retry's wait is over (and its task's)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def verified(secret: str, request) -> dict:
    _path, headers, body = request
    return Webhook(secret).verify(body, {key.lower(): value for key, value in headers.items()})


def test_without_an_enabled_subscription_a_publication_records_no_event(key):
    make_project("alpha")
    assert WebhookEvent.objects.count() == 0


def test_a_publication_is_delivered_signed_with_the_published_representation(subscribed, receiver, client):
    subscription, secret = subscribed
    project = make_project("alpha")  # the import channel publishes through the service
    event = WebhookEvent.objects.get()
    assert event.type == "project.published" and event.fanned_out_at is None  # nothing sent yet
    assert receiver.received == []

    run_tasks()
    assert len(receiver.received) == 1
    payload = verified(secret, receiver.received[0])
    _path, headers, _body = receiver.received[0]
    assert headers["webhook-id"] == event.message_id == payload["id"]
    assert payload["type"] == "project.published"
    api = client.get(f"/api/v1/projects/{project.slug}").json()
    assert payload["data"] == api  # the representation the API gives
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert list(delivery.attempt_log.values_list("number", "outcome", "status")) == [(1, "delivered", 200)]


def test_the_event_commits_with_its_publication_or_not_at_all(subscribed):
    project = make_project("alpha", publish=False, assessments=all_rated())
    tasks_before = DBTaskResult.objects.filter(task_path__in=WEBHOOK_TASKS).count()
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_as_reviewer(project=project, note="Published, then rolled back.")
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the surrounding work failed")
    assert WebhookEvent.objects.count() == 0
    assert DBTaskResult.objects.filter(task_path__in=WEBHOOK_TASKS).count() == tasks_before
    publish_as_reviewer(project=project, note="Published.")
    event = WebhookEvent.objects.get()
    queued = DBTaskResult.objects.get(task_path="projects.tasks.webhook_fanout")
    assert queued.args_kwargs["args"] == [event.pk]


def test_a_withdrawal_is_delivered_as_a_tombstone(subscribed, receiver):
    subscription, secret = subscribed
    project = make_project("alpha")
    withdraw_as_reviewer(project=project, note="Withdrawn: the mission was cancelled.")
    run_tasks()
    types = [verified(secret, request)["type"] for request in receiver.received]
    assert sorted(types) == ["project.published", "project.withdrawn"]
    withdrawn = next(verified(secret, r) for r in receiver.received if b"withdrawn" in r[2])
    assert withdrawn["data"]["slug"] == "alpha" and withdrawn["data"]["withdrawn"] is True


def test_filters_and_event_types_choose_who_is_told(key, receiver):
    def subscribe(**fields):
        return subscription_create(key, {"url": url(receiver, f"/{len(fields)}"), **fields})[0]

    wanted = [
        subscribe(events=["project.published"]),
        subscribe(events=["project.published"], bodies=["moon"]),
    ]
    not_wanted = [
        subscribe(events=["project.withdrawn"]),
        subscribe(events=["project.published"], bodies=["mars"]),
        subscribe(events=["project.published"], operators=["someone-else"]),
    ]
    disabled = subscribe(events=["project.published"])
    subscription_change(disabled, {"enabled": False}, version=disabled.version)
    make_project("alpha", target_body="moon")
    run_tasks()
    told = set(WebhookDelivery.objects.values_list("subscription_id", flat=True))
    assert told == {subscription.pk for subscription in wanted}
    assert not told & {subscription.pk for subscription in [*not_wanted, disabled]}


def test_a_subscription_made_after_the_event_is_not_told_of_it(key, receiver):
    subscription_create(key, {"url": url(receiver), "events": ["project.published"]})
    make_project("alpha")
    subscription_create(key, {"url": url(receiver, "/late"), "events": ["project.published"]})
    run_tasks()
    assert [path for path, *_ in receiver.received] == ["/hook?x=1"]


def test_a_failed_attempt_is_retried_later_with_the_same_id(subscribed, receiver):
    subscription, secret = subscribed
    receiver.behaviour = lambda count: "fail" if count == 1 else "ok"
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(0) <= wait <= timedelta(seconds=30)  # the first retry's full jitter
    subscription.refresh_from_db()
    assert subscription.failing_since is not None

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert delivery_send(delivery.pk) == "skipped"  # not before its time…
    due_now(delivery)
    run_tasks(later=timedelta(seconds=31))  # …then by its queued retry
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    first, second = (verified(secret, request) for request in receiver.received)
    assert first["id"] == second["id"] and first == second
    assert list(delivery.attempt_log.values_list("outcome", "status")) == [
        ("failed", 500),
        ("delivered", 200),
    ]
    subscription.refresh_from_db()
    assert subscription.failing_since is None  # a success clears the failures


def test_a_delivery_is_given_up_a_day_after_its_first_attempt(subscribed, receiver):
    receiver.behaviour = "fail"
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        first_attempt_at=timezone.now() - timedelta(hours=24), next_attempt_at=timezone.now()
    )
    assert delivery_send(delivery.pk) == "given up"
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == 2
    assert delivery_send(delivery.pk) == "skipped"  # never again, unless redelivered


def test_a_subscription_failing_for_a_day_is_disabled_and_says_why(subscribed, receiver, client):
    subscription, _secret = subscribed
    receiver.behaviour = "fail"
    make_project("alpha")
    run_tasks()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1)
    )
    delivery = WebhookDelivery.objects.get()
    due_now(delivery)
    delivery_send(delivery.pk)
    subscription.refresh_from_db()
    assert not subscription.enabled and "failing for a day" in subscription.disabled_reason
    # A disabled subscription gets no new events, and its pending deliveries stop.
    make_project("beta")
    run_tasks()
    assert WebhookDelivery.objects.filter(event__type="project.published").count() == 1
    due_now(delivery)
    assert delivery_send(delivery.pk) == "disabled"
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.last_error == "the subscription is disabled"


def test_a_worker_that_dies_during_an_attempt_is_replaced_and_the_attempt_logged(subscribed, receiver):
    subscription, secret = subscribed
    make_project("alpha")
    run_tasks()  # delivered once
    delivery = WebhookDelivery.objects.get()
    # A worker claimed the delivery again (a redelivery) and died before recording anything.
    delivery_redeliver(delivery)
    claim = webhook_delivery._claim(delivery.pk)
    assert claim is not None
    assert delivery_send(delivery.pk) == "skipped"  # its lease holds: no one else sends it
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert delivery_send(delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert list(delivery.attempt_log.values_list("number", "outcome")) == [
        (1, "delivered"),
        (2, "lost"),
        (3, "delivered"),
    ]
    ids = {verified(secret, request)["id"] for request in receiver.received}
    assert len(receiver.received) == 2 and len(ids) == 1


def test_the_claim_queues_its_own_second_look_for_when_the_lease_runs_out(subscribed, settings):
    make_project("alpha")
    event = WebhookEvent.objects.get()
    event_fan_out(event.pk)
    delivery = WebhookDelivery.objects.get()
    before = timezone.now()
    webhook_delivery._claim(delivery.pk)
    looks = DBTaskResult.objects.filter(
        task_path="projects.tasks.webhook_send",
        run_after__gt=before + timedelta(seconds=settings.WEBHOOK_LEASE - 1),
        run_after__lt=get_date_max(),  # not the send the fan-out queued
    )
    assert [look.args_kwargs["args"] for look in looks] == [[delivery.pk]]


def test_a_fan_out_is_done_once_and_redone_when_its_worker_died(subscribed):
    make_project("alpha")
    event = WebhookEvent.objects.get()
    assert event_fan_out(event.pk) == 1
    assert event_fan_out(event.pk) == 0  # its second look finds it done
    assert WebhookDelivery.objects.count() == 1
    # A fan-out whose worker died inside rolled back: its second look (queued first) does it.
    WebhookDelivery.objects.all().delete()
    WebhookEvent.objects.filter(pk=event.pk).update(fanned_out_at=None)
    second_looks = DBTaskResult.objects.filter(
        task_path="projects.tasks.webhook_fanout", run_after__gt=timezone.now()
    )
    assert second_looks.exists()
    assert event_fan_out(event.pk) == 1


def test_redeliver_sends_the_same_event_again(subscribed, receiver):
    subscription, secret = subscribed
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    delivery_redeliver(delivery)
    run_tasks()
    first, second = (verified(secret, request) for request in receiver.received)
    assert first == second
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)


def test_redeliver_is_refused_while_an_attempt_runs_or_the_subscription_is_disabled(subscribed, receiver):
    subscription, _secret = subscribed
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    delivery_redeliver(delivery)
    webhook_delivery._claim(delivery.pk)
    with pytest.raises(DeliveryBusy):
        delivery_redeliver(delivery)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=None, claim="")
    subscription.refresh_from_db()
    subscription_change(subscription, {"enabled": False}, version=subscription.version)
    with pytest.raises(SubscriptionDisabled):
        delivery_redeliver(delivery)


def test_an_unreachable_endpoint_is_a_failure_with_the_reason(key):
    subscription_create(key, {"url": "http://127.0.0.1:9/closed", "events": ["project.published"]})
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.last_status is None
    assert "connect" in delivery.last_error


def test_private_targets_are_refused_at_delivery_time(key, receiver, settings):
    subscription_create(key, {"url": url(receiver), "events": ["project.published"]})
    settings.WEBHOOK_ALLOW_PRIVATE = False
    make_project("alpha")
    run_tasks()
    assert receiver.received == []
    assert "loopback" in WebhookDelivery.objects.get().last_error


def test_a_representation_too_large_is_sent_as_a_reference(subscribed, receiver, monkeypatch):
    subscription, secret = subscribed
    monkeypatch.setattr(webhook_events, "MAX_PAYLOAD", 300)
    make_project("alpha")
    run_tasks()
    payload = verified(secret, receiver.received[0])
    assert payload["data"]["slug"] == "alpha" and payload["data"]["truncated"] is True
    assert len(receiver.received[0][2]) <= 300


def test_the_body_is_the_event_exactly_as_recorded(subscribed, receiver):
    make_project("alpha")
    run_tasks()
    event = WebhookEvent.objects.get()
    assert receiver.received[0][2] == event.body.encode()
    assert json.loads(event.body)["timestamp"].endswith("Z")


def test_every_attempt_is_logged_in_order(subscribed, receiver):
    receiver.behaviour = lambda count: "fail" if count < 3 else "ok"
    make_project("alpha")
    run_tasks()
    for _ in range(2):
        due_now(WebhookDelivery.objects.get())
        delivery_send(WebhookDelivery.objects.get().pk)
    log = WebhookAttempt.objects.order_by("number")
    assert [(a.number, a.outcome) for a in log] == [(1, "failed"), (2, "failed"), (3, "delivered")]


def test_the_task_of_a_worker_that_died_is_marked_lost_by_the_second_look(subscribed, receiver):
    """The claim queues a second look naming its task; run at the lease's end, it marks that
    task lost when it still shows "running" (its worker died), whether or not it sends again."""
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    delivery_redeliver(delivery)
    sends = DBTaskResult.objects.filter(task_path="projects.tasks.webhook_send", status="READY")
    dead = sends.get(run_after=get_date_max())  # the redelivery's task
    DBTaskResult.objects.filter(pk=dead.pk).update(status="RUNNING", started_at=timezone.now())
    webhook_delivery._claim(delivery.pk, str(dead.pk))  # the worker claims, then dies
    looks = [
        task.args_kwargs["args"] for task in sends.exclude(pk=dead.pk) if len(task.args_kwargs["args"]) > 1
    ]
    assert looks[-1] == [delivery.pk, str(dead.pk)]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    run_tasks(later=timedelta(minutes=1))
    dead.refresh_from_db()
    assert dead.status == "FAILED" and "WorkerLost" in dead.traceback
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 3


def test_a_publication_superseded_before_its_fan_out_is_sent_as_a_reference(subscribed, receiver):
    """The representation is read by the fan-out, out of the request: when a later withdrawal
    came first, the earlier event says so rather than show the project as it is now."""
    subscription, secret = subscribed
    project = make_project("alpha")
    withdraw_as_reviewer(project=project, note="Withdrawn at once.")
    run_tasks()
    by_type = {verified(secret, r)["type"]: verified(secret, r) for r in receiver.received}
    assert by_type["project.published"]["data"] == {"slug": "alpha", "superseded": True}
    assert by_type["project.withdrawn"]["data"]["withdrawn"] is True


def test_a_publication_costs_one_query_when_no_one_listens(key, django_assert_num_queries):
    from projects.services.webhook_events import project_event

    project = make_project("alpha")
    with transaction.atomic(), django_assert_num_queries(1):
        assert project_event(project.pk) is None
