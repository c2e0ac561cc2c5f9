"""Webhook events (issue 17): recorded by the services that make the change, inside its
transaction, so that an event exists exactly when its change committed, whatever the channel
(admin, API, import, method release, task, shell).

An event holds the exact body its deliveries send: the id, the type, the time and the published
representation, as the API gives it at that moment. It is recorded only while some subscription
is enabled (one indexed query otherwise), and its fan-out to subscriptions is queued in the same
transaction (the task database is the primary one): a publication that commits has its event
and its fan-out task, and one that rolls back has neither. Nothing is sent in the request.

A method release's automatic republications are not events of their own: the release is one
``methodology.released`` and the end of its rescoring one ``rescoring.completed`` with counts.
"""

from __future__ import annotations

import secrets

import orjson
from django.db import transaction
from django.utils import timezone

from projects.models import ApiKey, Methodology, Project, RescoreJob, WebhookEvent, WebhookSubscription
from projects.models.webhooks import MAX_PAYLOAD

PUBLISHED = "project.published"
WITHDRAWN = "project.withdrawn"
RELEASED = "methodology.released"
RESCORED = "rescoring.completed"


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def _anyone_listening() -> bool:
    # Enabled is enough to record an event (the partial index answers at once); the fan-out
    # leaves out the subscriptions whose key was revoked or expired.
    return WebhookSubscription.objects.filter(disabled_at__isnull=True).exists()


def listening():
    """The subscriptions told of new events: enabled, and their API key still usable (a revoked
    or expired key's subscriptions are told nothing more)."""
    return WebhookSubscription.objects.filter(disabled_at__isnull=True, api_key__in=ApiKey.objects.usable())


def encode(message_id: str, type_: str, moment, data: dict, *, reference: dict) -> bytes:
    """The body of an event's deliveries. When the representation would make it larger than
    MAX_PAYLOAD, ``reference`` (enough to fetch it) is sent instead, marked ``truncated``."""
    from projects.api.rows import utc_text

    envelope = {"id": message_id, "type": type_, "timestamp": utc_text(moment)}
    body = orjson.dumps({**envelope, "data": data})
    if len(body) > MAX_PAYLOAD:
        body = orjson.dumps({**envelope, "data": {**reference, "truncated": True}})
    return body


def _record(type_: str, data, *, reference: dict, listened: bool = False, **fields):
    """The event, and its fan-out queued, in the caller's transaction (None: no one listens).
    ``data`` None: its body is written by the fan-out (``publication_body``)."""
    from projects.tasks import webhook_fanout_enqueue

    if not (listened or _anyone_listening()):
        return None
    moment = timezone.now()
    message_id = new_message_id()
    body = b""
    if data is not None:
        body = encode(message_id, type_, moment, data() if callable(data) else data, reference=reference)
    event = WebhookEvent.objects.create(
        message_id=message_id, type=type_, created_at=moment, body=body.decode(), **fields
    )
    webhook_fanout_enqueue(event.pk)
    return event


def project_event(project_id: int) -> WebhookEvent | None:
    """``project.published`` or ``project.withdrawn`` for the project's newest publication; call
    inside the publication's transaction, after the project's row shows it.

    What it costs the publication is one indexed query when no one listens, and a small row and
    its task otherwise: the representation of a published project is read by the fan-out, out
    of the request (``publication_body``). A withdrawal's tombstone is written here.
    """
    from projects.api.rows import utc_text

    assert transaction.get_connection().in_atomic_block, "an event is recorded with its change"
    if not _anyone_listening():
        return None
    row = (
        Project.objects.filter(pk=project_id)
        .values("slug", "state", "target_body", "operator__slug", "publication_id", "updated_at")
        .get()
    )
    fields = {
        "operator": row["operator__slug"] or "",
        "target_body": row["target_body"],
        "publication_id": row["publication_id"],
    }
    if row["state"] != "published":
        tombstone = {
            "slug": row["slug"],
            "state": "withdrawn",
            "withdrawn": True,
            "updated_at": utc_text(row["updated_at"]),
        }
        return _record(WITHDRAWN, tombstone, reference=tombstone, listened=True, **fields)
    return _record(PUBLISHED, None, reference={}, listened=True, **fields)


def publication_body(event: WebhookEvent) -> str:
    """The body of a ``project.published`` event, written once by its fan-out: the project as the
    API gives it now, while the event's publication is still its newest; a reference marked
    ``superseded`` when a later publication or withdrawal came first (whose own event carries
    the project)."""
    from projects.api.rows import project_representation, project_rows

    rows = project_rows(Project.objects.filter(publication_id=event.publication_id), drafts=False)
    row = rows.first() if event.publication_id else None
    if row is not None and row["state"] == "published":
        data = project_representation(row)
        reference = {"slug": row["slug"], "updated_at": data["updated_at"]}
    else:
        slug = (
            Project.objects.filter(publications__pk=event.publication_id)
            .values_list("slug", flat=True)
            .first()
        )
        data = reference = {"slug": slug, "superseded": True}
    return encode(event.message_id, event.type, event.created_at, data, reference=reference).decode()


def methodology_event(methodology: Methodology) -> WebhookEvent | None:
    """``methodology.released``: the version as the API's method endpoint gives it."""
    from rest_framework.renderers import JSONRenderer

    from projects.api.serializers import MethodologySerializer
    from projects.selectors import methodologies_with_criteria

    def data() -> dict:
        shown = methodologies_with_criteria().get(pk=methodology.pk)
        return orjson.loads(JSONRenderer().render(MethodologySerializer(shown).data))

    return _record(RELEASED, data, reference={"version": methodology.version})


def rescoring_event(job_id: int) -> WebhookEvent | None:
    """``rescoring.completed``: a method release's rescoring is done, with its counts."""
    from projects.api.rows import utc_text

    job = RescoreJob.objects.select_related("methodology").get(pk=job_id)
    data = {
        "methodology": job.methodology.version,
        "projects": job.total,
        "rescored": job.done,
        "new_cards": job.changed,
        "republished": job.republished,
        "started_at": utc_text(job.started_at),
        "finished_at": utc_text(job.finished_at),
    }
    return _record(RESCORED, data, reference={"methodology": job.methodology.version})
