"""Webhook deliveries (issue 17): an event fanned out to the subscriptions that want it, and each
delivery sent by task workers, at least once, under the Standard Webhooks headers.

At least once, across workers that die:

- the fan-out creates every delivery of an event and queues their tasks in one transaction;
  before it starts it queues a second look at the event a lease later (committed first), which
  does the fan-out again should this worker die inside it (a finished fan-out is never redone);
- a worker claims a delivery for a lease (WEBHOOK_LEASE seconds, more than the 10 s a POST may
  take) and, in the same transaction, queues a second look at the delivery for when the lease
  runs out: if the worker died, that look finds the claim expired, logs the attempt as lost and
  sends again; the dead worker's task, which the task database would show "running" for ever,
  is marked lost then. The attempt's outcome and the next try are recorded together;
- every attempt of a delivery sends the same event id and body (``webhook-id``; receivers
  drop what they have seen), signed afresh with the time of the attempt.

A failed attempt is tried again after a backoff with full jitter (projects.webhooks.schedule) for
a day from the first; a subscription whose deliveries have failed for a day, without one
success, is disabled. Nothing here runs in a request.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from projects.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from projects.webhooks import schedule
from projects.webhooks.signing import signed_headers
from projects.webhooks.transport import DeliveryFailed, post

from .errors import Conflict
from .leases import tasks_lost
from .webhook_events import listening, publication_body
from .webhooks import signing_secrets

State = WebhookDelivery.State
DISABLED_AFTER_FAILURES = "failing for a day: enable it again when the endpoint answers"


def lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_LEASE)


def _tasks():
    from projects import tasks

    return tasks


# --- Fan-out ----------------------------------------------------------------------------------


def wants(subscription: WebhookSubscription, event: WebhookEvent) -> bool:
    """Whether the subscription is to be told of the event: its type, and for a project's event
    the subscription's operators and bodies (empty: all)."""
    if event.type not in subscription.events:
        return False
    if event.operator and subscription.operators and event.operator not in subscription.operators:
        return False
    return not (event.target_body and subscription.bodies and event.target_body not in subscription.bodies)


def event_fan_out(event_id: int) -> int:
    """The event's deliveries, created and queued once (the number created; 0 when it was done)."""
    if WebhookEvent.objects.filter(pk=event_id, fanned_out_at__isnull=False).exists():
        return 0
    _tasks().webhook_fanout_enqueue(event_id, after=lease())  # should this worker die in it
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.fanned_out_at is not None:
            return 0
        if not event.body:  # a publication's: the project as the API gives it now
            event.body = publication_body(event)
            WebhookEvent.objects.filter(pk=event.pk).update(body=event.body)
        subscriptions = (
            listening().filter(created_at__lte=event.created_at).only("events", "operators", "bodies")
        )
        now = timezone.now()
        created = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(subscription=subscription, event=event, next_attempt_at=now)
                for subscription in subscriptions
                if wants(subscription, event)
            ],
            batch_size=500,
        )
        ids = WebhookDelivery.objects.filter(event=event).values_list("pk", flat=True)
        _tasks().webhook_send_enqueue_many(list(ids))
        WebhookEvent.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now())
    return len(created)


# --- Sending ----------------------------------------------------------------------------------


def _claim(delivery_id: int, task_id: str = "") -> tuple[WebhookDelivery, str] | None:
    """The delivery, claimed for a lease, with a second look queued for the lease's end (None:
    it is not due, delivered, given up, or another worker's)."""
    now = timezone.now()
    with transaction.atomic():
        seen = (
            WebhookDelivery.objects.filter(pk=delivery_id).values("attempts", "claim", "lease_until").first()
        )
        if seen is None:
            return None
        claim = task_id.replace("-", "") or uuid.uuid4().hex  # the task that holds it, when known
        claimed = (
            WebhookDelivery.objects.filter(
                pk=delivery_id, state=State.PENDING, next_attempt_at__lte=now, attempts=seen["attempts"]
            )
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .update(
                claim=claim,
                lease_until=now + lease(),
                attempts=F("attempts") + 1,
                last_attempt_at=now,
            )
        )
        if not claimed:
            return None
        if (
            seen["claim"]
            and not WebhookAttempt.objects.filter(delivery_id=delivery_id, number=seen["attempts"]).exists()
        ):
            # The last claim's worker stopped before it could say how the attempt went.
            WebhookAttempt.objects.create(
                delivery_id=delivery_id,
                number=seen["attempts"],
                at=seen["lease_until"] - lease(),
                outcome=WebhookAttempt.Outcome.LOST,
                error="the worker stopped during the attempt; sent again",
            )
        WebhookDelivery.objects.filter(pk=delivery_id, first_attempt_at__isnull=True).update(
            first_attempt_at=now
        )
        _tasks().webhook_send_enqueue(delivery_id, after=lease(), dead_task=task_id)
        delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    return delivery, claim


def delivery_send(delivery_id: int, *, task_id: str = "", dead_task: str = "") -> str:
    """One attempt of the delivery, if it is due and no other worker has it: its outcome
    ("delivered", "failed", "given up", "disabled", or "skipped"). ``task_id``: the task doing
    it; ``dead_task``: a claiming task whose lease ran out, which a live worker would have
    finished (django-tasks-db would show it "running" for ever: it is marked lost)."""
    if dead_task:
        tasks_lost([dead_task], f"its worker stopped during an attempt of delivery {delivery_id}.")
    taken = _claim(delivery_id, task_id)
    if taken is None:
        return "skipped"
    delivery, claim = taken
    subscription, event = delivery.subscription, delivery.event
    refusal = _not_sent_because(subscription)
    if refusal:
        with transaction.atomic():
            if WebhookDelivery.objects.filter(pk=delivery.pk, claim=claim).update(
                state=State.FAILED, lease_until=None, claim="", last_error=refusal
            ):
                WebhookAttempt.objects.create(
                    delivery_id=delivery.pk,
                    number=delivery.attempts,
                    at=delivery.last_attempt_at,
                    outcome=WebhookAttempt.Outcome.FAILED,
                    error=f"not sent: {refusal}",
                )
        return "disabled"
    body = event.body.encode()
    headers = signed_headers(signing_secrets(subscription), event.message_id, int(time.time()), body)
    began = time.monotonic()
    try:
        answer = post(subscription.url, body, headers, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
        status, error = answer.status, ("" if 200 <= answer.status < 300 else f"answered {answer.status}")
    except DeliveryFailed as failure:
        status, error = None, failure.reason
    except Exception as unexpected:  # recorded like any failure: an attempt never goes unlogged
        status, error = None, f"could not send: {type(unexpected).__name__}"
    duration = round(1000 * (time.monotonic() - began))
    return _record(delivery, claim, status=status, error=error[:300], duration_ms=duration)


def _not_sent_because(subscription: WebhookSubscription) -> str:
    if not subscription.enabled:
        return "the subscription is disabled"
    if not ApiKey.objects.usable().filter(pk=subscription.api_key_id).exists():
        return "the subscription's API key was revoked or has expired"
    return ""


def _record(
    delivery: WebhookDelivery, claim: str, *, status: int | None, error: str, duration_ms: int
) -> str:
    """The attempt's outcome in the log, and the delivery's next state, together."""
    now = timezone.now()
    delivered = not error
    with transaction.atomic():
        mine = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk, claim=claim).first()
        if mine is None:  # the lease ran out and another worker took it: its outcome counts
            return "skipped"
        WebhookAttempt.objects.create(
            delivery_id=mine.pk,
            number=mine.attempts,
            at=mine.last_attempt_at,
            outcome=WebhookAttempt.Outcome.DELIVERED if delivered else WebhookAttempt.Outcome.FAILED,
            status=status,
            error=error,
            duration_ms=duration_ms,
        )
        done = {"lease_until": None, "claim": "", "last_status": status, "last_error": error}
        subscriptions = WebhookSubscription.objects.filter(pk=mine.subscription_id)
        if delivered:
            WebhookDelivery.objects.filter(pk=mine.pk).update(state=State.DELIVERED, delivered_at=now, **done)
            subscriptions.filter(failing_since__isnull=False).update(failing_since=None)
            return "delivered"
        subscriptions.filter(failing_since__isnull=True).update(failing_since=now)
        failing = subscriptions.values_list("failing_since", flat=True).first()
        if schedule.should_disable(failing, now):
            subscriptions.filter(disabled_at__isnull=True).update(
                disabled_at=now, disabled_reason=DISABLED_AFTER_FAILURES
            )
        base = timedelta(seconds=settings.WEBHOOK_RETRY_BASE)
        when = schedule.next_attempt(mine.first_attempt_at or now, now, retry=mine.attempts, base=base)
        if when is None:
            WebhookDelivery.objects.filter(pk=mine.pk).update(state=State.FAILED, **done)
            return "given up"
        WebhookDelivery.objects.filter(pk=mine.pk).update(next_attempt_at=when, **done)
        _tasks().webhook_send_enqueue(mine.pk, after=when - now)
    return "failed"


# --- Redelivery -------------------------------------------------------------------------------


class DeliveryBusy(Conflict):
    code = "delivery_in_progress"

    def __init__(self):
        super().__init__("The delivery is being attempted right now; look again in a minute.")


class SubscriptionDisabled(Conflict):
    code = "subscription_disabled"

    def __init__(self):
        super().__init__("The subscription is disabled: enable it first, then redeliver.")


def delivery_redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery again now, with the same event id and body, whatever its state; its
    day of retries starts again."""
    now = timezone.now()
    with transaction.atomic():
        if not WebhookSubscription.objects.filter(
            pk=delivery.subscription_id, disabled_at__isnull=True
        ).exists():
            raise SubscriptionDisabled()
        reset = (
            WebhookDelivery.objects.filter(pk=delivery.pk)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .update(state=State.PENDING, next_attempt_at=now, first_attempt_at=None, delivered_at=None)
        )
        if not reset:
            raise DeliveryBusy()
        _tasks().webhook_send_enqueue(delivery.pk)
    delivery.refresh_from_db()
    return delivery
