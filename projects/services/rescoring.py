"""Rescoring every project under a method version, chunk by chunk, in bounded memory.

A chunk is a range of project ids. In one transaction it locks those projects, reads their
ratings, scores them with the pure engine and switches each project to its new card in a single
row update, so a reader sees a project's old card or its new one, never a mix, and an analyst's
edit is never overwritten by a card computed from older ratings. Memory stays flat: nothing
outlives its chunk.

When the method differs from the one a published project was published under, its public card
moves too: the ratings frozen at publication are scored under the new method and recorded as an
automatic publication ("method 1.0 → 1.1; net …"), the ratings unchanged.

The hot path writes plain SQL rather than ``bulk_create`` (Django's per-field conversion
dominates at 100,000 cards): multi-row statements on SQLite, COPY on PostgreSQL (insert_rows,
update_projects).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import socket
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects import scoring
from projects.freshness import site_changed
from projects.models import Methodology, Project, Publication, RescoreJob, ScoreCard
from projects.models.jobs import RescoreChunk
from projects.models.scores import CARD_FIGURES, card_columns
from projects.vocabularies import PublicationState

from .publication import changes_of, ratings_key, scored_parts
from .scoring import method_spec, project_rescore

AUTOMATIC_NOTE = "Rescored under method {version}; no rating changed (automatic)."
logger = logging.getLogger(__name__)
CARD_COLUMNS = ["project_id", "methodology_id", "computed_at", "card", *CARD_FIGURES]


PUBLICATION_COLUMNS = [
    "project_id",
    "number",
    "published_at",
    "published_by_id",
    "note",
    "methodology_id",
    "ratings",
    "ratings_of_id",
    "ratings_key",
    "score_id",
    "changes",
]


@dataclass
class ChunkResult:
    projects: int = 0
    changed: int = 0
    republished: int = 0

    def __iadd__(self, other: ChunkResult) -> ChunkResult:
        self.projects += other.projects
        self.changed += other.changed
        self.republished += other.republished
        return self


def project_id_ranges(chunk: int) -> Iterator[tuple[int, int, int]]:
    """(first id, last id, count) for consecutive chunks of ``chunk`` projects, streamed."""
    ids = Project.objects.order_by("pk").values_list("pk", flat=True)
    batch: list[int] = []
    for pk in ids.iterator(chunk_size=10_000):
        batch.append(pk)
        if len(batch) == chunk:
            yield batch[0], batch[-1], len(batch)
            batch = []
    if batch:
        yield batch[0], batch[-1], len(batch)


def db_moment(value):
    """A date-time as the database backend stores it (raw SQL skips the field's conversion)."""
    return connection.ops.adapt_datetimefield_value(value)


def card_row(project_id: int, methodology_id: int, stamp, card: dict) -> tuple:
    """The INSERT values of a card (``stamp``: its time, already adapted by ``db_moment``)."""
    return (project_id, methodology_id, stamp, json.dumps(card), *card_columns(card).values())


MAX_PARAMETERS = 5000  # per statement on SQLite: well under its limit


def insert_rows(model, columns: list[str], rows: list[tuple], returning: tuple[str, ...] = ()) -> list:
    """INSERT many rows of ``model``'s table; with ``returning``, those columns of the inserted
    rows (in no particular order; "id" among them).

    SQLite: a few hundred rows per statement. PostgreSQL: COPY, with the ids drawn from the
    table's sequence first when they are asked for (parsing and quoting the parameters of large
    INSERTs cost the driver more than PostgreSQL's own work).
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy_rows(model, columns, rows, returning)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    back = f" RETURNING {', '.join(quote(column) for column in returning)}" if returning else ""
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    inserted = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            marks = ", ".join([row_marks] * len(batch))
            # Table and column names are the models' own, never input; values are parameters.
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {marks}{back}",  # noqa: S608
                [value for row in batch for value in row],
            )
            if returning:
                inserted += cursor.fetchall()
    return inserted


def _copy_rows(model, columns: list[str], rows: list[tuple], returning: tuple[str, ...]) -> list:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            columns, rows = ["id", *columns], [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
        names = ", ".join(quote(column) for column in columns)
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    if not returning:
        return []
    positions = [columns.index(column) for column in returning]
    return [tuple(row[position] for position in positions) for row in rows]


_scratch_numbers = itertools.count()


def update_projects(columns: list[str], rows: dict[int, tuple]) -> None:
    """Set ``columns`` of many projects (id → values), each found by its primary key: UPDATE …
    FROM a list of values, a few hundred projects a statement on SQLite (3.33+); on PostgreSQL
    the values are copied into a temporary table first (see insert_rows)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Project._meta.db_table)
    aliases = ["k", *(f"c{index}" for index in range(len(columns)))]
    assignments = ", ".join(f"{quote(column)} = v.c{index}" for index, column in enumerate(columns))
    # Names are the model's own, never input; values are parameters.
    update = f"UPDATE {table} SET {assignments} FROM {{source}} WHERE {table}.{quote('id')} = v.k"  # noqa: S608
    values = [(pk, *row) for pk, row in rows.items()]
    if connection.vendor == "postgresql":
        fields = {field.column: field for field in Project._meta.concrete_fields}
        kinds = [fields[column].cast_db_type(connection) for column in ["id", *columns]]
        declared = ", ".join(f"{alias} {kind}" for alias, kind in zip(aliases, kinds, strict=True))
        # A table of its own for each call, gone at the end of the transaction.
        scratch = f"sdgscore_project_update_{next(_scratch_numbers)}"
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} ({declared}) ON COMMIT DROP")
            with cursor.cursor.copy(f"COPY {scratch} ({', '.join(aliases)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            # The ids' range too: else PostgreSQL may hash-join against every project.
            cursor.execute(
                update.format(source=f"{scratch} AS v") + f" AND {table}.{quote('id')} BETWEEN %s AND %s",
                [min(rows), max(rows)],
            )
        return
    with connection.cursor() as cursor:
        # SQLite names a VALUES list's columns column1, column2, …: renamed in a subquery.
        renamed = ", ".join(f"column{number} AS {alias}" for number, alias in enumerate(aliases, 1))
        row_marks = "(" + ", ".join(["%s"] * len(aliases)) + ")"
        per_statement = max(1, MAX_PARAMETERS // len(aliases))
        for start in range(0, len(values), per_statement):
            batch = values[start : start + per_statement]
            marks = ", ".join([row_marks] * len(batch))
            cursor.execute(
                update.format(source=f"(SELECT {renamed} FROM (VALUES {marks})) AS v"),  # noqa: S608
                [value for row in batch for value in row],
            )


# The bookkeeping of the job chunk being run (set by rescore_job_chunk), called last inside the
# transaction that writes the chunk's cards.
_chunk_bookkeeping: ContextVar[Callable[[ChunkResult], object] | None] = ContextVar(
    "sdgscore_chunk_bookkeeping", default=None
)


def rescore_range(*, methodology: Methodology, first_id: int, last_id: int) -> ChunkResult:
    """Rescore the projects with ids first_id..last_id under ``methodology``.

    Optimistic: ratings are read and scored without holding locks (so that several workers
    score at once, even on SQLite), then one short transaction locks the projects and writes
    the cards of every project that nobody rescored or published in between; those few are
    rescored again under the lock.

    Run as a job's chunk, the job's bookkeeping is written last in that transaction: it commits
    with the cards or not at all (a worker killed in between leaves neither).
    """
    record = _chunk_bookkeeping.get()
    spec = method_spec(methodology)
    codes = dict(methodology.criteria.values_list("pk", "code"))
    known = set(codes.values())
    projects = list(
        Project.objects.filter(pk__gte=first_id, pk__lte=last_id)
        .order_by("pk")
        .values_list(
            "pk",
            "current_score_id",
            "current_score__methodology_id",
            "state",
            "publication_id",
            "publication__methodology_id",
        )
    )
    if not projects:
        if record is not None:
            with transaction.atomic():
                record(ChunkResult())
        return ChunkResult()
    ids = [row[0] for row in projects]
    ratings: dict[int, list[scoring.Rating]] = defaultdict(list)
    Rating = scoring.Rating
    with (
        connection.cursor() as cursor
    ):  # plain rows: the ORM's per-value converters cost more than the scoring
        marks = ", ".join(["%s"] * len(codes))
        cursor.execute(
            "SELECT project_id, criterion_id, level, evidence_grade, not_applicable "  # noqa: S608
            f"FROM projects_assessment WHERE project_id BETWEEN %s AND %s AND criterion_id IN ({marks})",
            [first_id, last_id, *codes],
        )
        for project_id, criterion_id, level, grade, not_applicable in cursor.fetchall():
            code = codes.get(criterion_id)
            if code is not None:  # a rating under this method
                ratings[project_id].append(Rating(code, level, grade or None, bool(not_applicable)))
    cards = {pk: scoring.score(spec, ratings.get(pk, ())).as_dict() for pk in ids}
    same_method = [
        current for _, current, method_id, *_ in projects if current and method_id == methodology.pk
    ]
    stored = (
        dict(ScoreCard.objects.filter(pk__in=same_method).values_list("pk", "card")) if same_method else {}
    )
    seen_card = {pk: current for pk, current, *_ in projects}
    new_cards = [
        pk
        for pk, current, method_id, *_ in projects
        if not (current and method_id == methodology.pk and stored.get(current) == cards[pk])
    ]
    # Published projects published under another method: their public card follows.
    seen_publication = {
        pk: publication_id
        for pk, _, _, state, publication_id, publication_method in projects
        if state == PublicationState.PUBLISHED and publication_id and publication_method != methodology.pk
    }
    republished = _republications(spec, known, seen_publication, ratings, cards) if seen_publication else []

    result = ChunkResult(projects=len(ids))
    with transaction.atomic():
        locked = {
            pk: (current, state, publication_id)
            for pk, current, state, publication_id in Project.objects.select_for_update()
            .filter(pk__in=ids)
            .values_list("pk", "current_score_id", "state", "publication_id")
        }
        # Rescored or published by someone else since we read: not ours to overwrite.
        raced = {pk for pk in ids if pk not in locked or locked[pk][0] != seen_card[pk]}
        published_since = {
            pk
            for pk, publication_id in seen_publication.items()
            if pk not in locked or locked[pk][2] != publication_id
        }
        new_cards = [pk for pk in new_cards if pk not in raced]
        # A raced project's public card is still the frozen ratings' card, computed above; it
        # gets its own card row. A project published since is under this method already.
        republished = [
            item if item[0] not in raced else [*item[:5], False, item[6]]
            for item in republished
            if item[0] not in published_since
        ]
        moment = timezone.now()
        card_ids = dict(
            insert_rows(
                ScoreCard,
                CARD_COLUMNS,
                [card_row(pk, methodology.pk, db_moment(moment), cards[pk]) for pk in new_cards],
                returning=("project_id", "id"),
            )
        )
        update_projects(["current_score_id"], {pk: (card_ids[pk],) for pk in new_cards})
        if republished:
            result.republished = _write_republications(methodology, republished, card_ids, moment)
            site_changed()  # public cards moved
        for pk in sorted(raced & set(locked)):  # the few raced: again, now under the lock
            card = project_rescore(project_id=pk, methodology=methodology)
            if card is not None and card.pk != locked[pk][0]:  # a card this rescoring made
                result.changed += 1
        result.changed += len(new_cards)
        if record is not None:
            record(result)
    return result


def _republications(spec, known, seen_publication, ratings, cards) -> list[tuple]:
    """(project id, next number, frozen ratings, old card, new card, card is the working one)
    for each published project whose public card moves to the new method."""
    previous = {}
    wanted = sorted(set(seen_publication.values()))
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(wanted))
        cursor.execute(
            "SELECT p.id, p.number, p.ratings_key, COALESCE(p.ratings_of_id, p.id), "  # noqa: S608
            "s.net_score, s.grade, s.status, m.version "
            "FROM projects_publication p JOIN projects_scorecard s ON s.id = p.score_id "
            f"JOIN projects_methodology m ON m.id = s.methodology_id WHERE p.id IN ({marks})",
            wanted,
        )
        for pk, number, key, root, net, grade, status, version in cursor.fetchall():
            # The old card's figures from its columns: no need to parse the whole card.
            old_card = {
                "methodology": version,
                "status": status,
                "overall": {"value": net, "grade": grade or None},
            }
            previous[pk] = (number, key, old_card, root)

    items, unsure = [], {}
    for project_id, publication_id in seen_publication.items():
        number, key, old_card, root = previous[publication_id]
        working = [(r.code, r.level, r.evidence_grade, r.not_applicable) for r in ratings.get(project_id, ())]
        if key and key == ratings_key(working):  # the frozen ratings are the working ones: the same card
            items.append([project_id, number + 1, root, old_card, cards[project_id], True, key])
        else:
            unsure[publication_id] = [project_id, number + 1, root, old_card, None, False, key]
    if unsure:  # read the frozen ratings themselves (a draft differs, or the criteria changed)
        for publication_id, own, repeated in Publication.objects.filter(pk__in=list(unsure)).values_list(
            "pk", "ratings", "ratings_of__ratings"
        ):
            frozen = own if repeated is None else repeated
            item = unsure[publication_id]
            parts = [part for part in scored_parts(frozen) if part[0] in known]
            working = [
                (r.code, r.level, r.evidence_grade, r.not_applicable) for r in ratings.get(item[0], ())
            ]
            if ratings_key(parts) == ratings_key(working):
                item[4], item[5] = cards[item[0]], True
            else:
                item[4] = scoring.score(spec, [scoring.Rating(*part) for part in parts]).as_dict()
            item[6] = item[6] or ratings_key(scored_parts(frozen))
            items.append(item)
    return items


def _write_republications(methodology, items, card_ids, moment) -> int:
    # Cards for projects whose draft differs from what was published: one more card each, a
    # moment before the working card, which stays the newest of the history.
    extra = {item[0]: item[4] for item in items if not item[5]}
    working_times = dict(
        Project.objects.filter(pk__in=list(extra)).values_list("pk", "current_score__computed_at")
    )
    stamps = {
        project_id: min(moment, working_times.get(project_id) or moment) - timedelta(microseconds=1)
        for project_id in extra
    }
    extra_ids = dict(
        insert_rows(
            ScoreCard,
            CARD_COLUMNS,
            [card_row(pk, methodology.pk, db_moment(stamps[pk]), card) for pk, card in extra.items()],
            returning=("project_id", "id"),
        )
    )
    # A working card that did not change keeps its id: look it up.
    unchanged = [item[0] for item in items if item[5] and item[0] not in card_ids]
    current_ids = dict(Project.objects.filter(pk__in=unchanged).values_list("pk", "current_score_id"))
    note = AUTOMATIC_NOTE.format(version=methodology.version)
    rows, stamp = [], db_moment(moment)
    for project_id, number, root, old_card, card, same, key in items:
        score_id = card_ids.get(project_id) or current_ids.get(project_id) if same else extra_ids[project_id]
        changes = changes_of(before_ratings=[], before_card=old_card, ratings=[], card=card)
        # The frozen ratings are not written again: the publication repeats those of the
        # publication that stores them (ratings_of; never a chain).
        rows.append(
            (
                project_id,
                number,
                stamp,
                None,
                note,
                methodology.pk,
                "[]",
                root,
                key,
                score_id,
                json.dumps(changes),
            )
        )
    new_ids = insert_rows(Publication, PUBLICATION_COLUMNS, rows, returning=("id", "project_id", "score_id"))
    # Automatic, and the releasing administrator's: no review, so four eyes still see every
    # change made since the last publication by a reviewer.
    releaser = get_user_model().objects.filter(pk=methodology.released_by_id).values("username")[:1]
    Publication.objects.filter(pk__in=[pk for pk, _, _ in new_ids]).update(
        kind=Publication.Kind.REPUBLICATION,
        published_by_id=methodology.released_by_id,
        published_by_name=Coalesce(Subquery(releaser), Value("")),
    )
    nets = {item[0]: card_columns(item[4])["net_score"] for item in items}
    update_projects(
        ["publication_id", "published_score_id", "published_net", "published_at", "updated_at"],
        {project_id: (pk, score_id, nets[project_id], stamp, stamp) for pk, project_id, score_id in new_ids},
    )
    return len(rows)


# --- jobs ------------------------------------------------------------------------------------
#
# A worker can die inside a chunk (SIGKILL, out of memory, a host lost) and django-tasks-db then
# shows its task "running" for ever. So each chunk has a row: a worker claims it with a lease,
# which a thread of the worker renews while the chunk runs; a chunk whose lease ran out has lost
# its worker and is queued again (rescore_job_reap), at most RESCORE_ATTEMPTS times in all.
# Reaping runs in the workers themselves: after every chunk, and in a watchdog task that each job
# keeps queued while it has chunks to do (projects.tasks.rescore_watch).

DEFAULT_LEASE = 60.0  # seconds without a sign of life after which a chunk's worker is taken for dead
DEFAULT_ATTEMPTS = 3


class WorkerLost(Exception):
    """Recorded on the task of a chunk whose worker stopped without finishing it."""


def rescore_lease() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "RESCORE_LEASE", DEFAULT_LEASE)))


def rescore_attempts() -> int:
    return int(getattr(settings, "RESCORE_ATTEMPTS", DEFAULT_ATTEMPTS))


def rescore_watch_interval() -> timedelta:
    """How often a job's watchdog looks for stalled chunks: twice a lease, at most once a second."""
    return max(timedelta(seconds=1), rescore_lease() / 2)


def worker_name() -> str:
    """This process, as the admin shows it (and as an operator finds it with ps)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def rescore_job_create(
    *, methodology: Methodology, chunk: int, user=None
) -> tuple[RescoreJob, list[tuple[int, int]]]:
    """A job for every project under ``methodology``, with the id ranges of its chunks."""
    ranges, total = [], 0
    for first, last, count in project_id_ranges(chunk):
        ranges.append((first, last))
        total += count
    job = RescoreJob.objects.create(
        methodology=methodology,
        total=total,
        chunks=len(ranges),
        requested_by=user if getattr(user, "pk", None) else None,
        state=RescoreJob.State.QUEUED if ranges else RescoreJob.State.DONE,
        finished_at=None if ranges else timezone.now(),
    )
    RescoreChunk.objects.bulk_create(
        [RescoreChunk(job=job, first_id=first, last_id=last) for first, last in ranges], batch_size=1000
    )
    return job, ranges


def rescore_job_chunk(*, job_id: int, first_id: int, last_id: int) -> ChunkResult:
    """Run one chunk of a job and record its progress (a chunk that fails marks the job failed).

    Nothing happens when the chunk is done already, or running in a worker that is alive: a
    chunk queued twice is rescored once.
    """
    job = RescoreJob.objects.select_related("methodology").get(pk=job_id)
    chunk = _chunk_claim(job=job, first_id=first_id, last_id=last_id)
    if chunk is None:
        return ChunkResult()
    now = timezone.now()
    RescoreJob.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=now)
    RescoreJob.objects.filter(pk=job_id, state=RescoreJob.State.QUEUED).update(state=RescoreJob.State.RUNNING)
    bookkeeping = _chunk_bookkeeping.set(lambda result: _chunk_record(chunk, result))
    try:
        with Heartbeat(chunk_id=chunk.pk, claim=chunk.claim):
            return rescore_range(methodology=job.methodology, first_id=first_id, last_id=last_id)
    except Exception as exc:
        error = f"projects {first_id}–{last_id}: {exc!r}"[:2000]
        failed = RescoreChunk.objects.filter(
            pk=chunk.pk, claim=chunk.claim, state=RescoreChunk.State.RUNNING
        ).update(state=RescoreChunk.State.FAILED, error=error, lease_expires_at=None)
        if failed:
            RescoreJob.objects.filter(pk=job_id).exclude(state=RescoreJob.State.DONE).update(
                state=RescoreJob.State.FAILED, error=error
            )
        raise
    finally:
        _chunk_bookkeeping.reset(bookkeeping)


def _chunk_claim(*, job: RescoreJob, first_id: int, last_id: int) -> RescoreChunk | None:
    """Take the chunk for this worker: if nobody has it, if it failed before, or if the lease
    of the worker that had it ran out. None when it is done or in a live worker's hands."""
    chunk, _ = RescoreChunk.objects.get_or_create(  # a task queued before chunks had rows
        job=job, first_id=first_id, defaults={"last_id": last_id}
    )
    now = timezone.now()
    claim = uuid.uuid4().hex
    claimable = Q(state__in=[RescoreChunk.State.QUEUED, RescoreChunk.State.FAILED]) | Q(
        state=RescoreChunk.State.RUNNING, lease_expires_at__lt=now
    )
    taken = RescoreChunk.objects.filter(claimable, pk=chunk.pk).update(
        state=RescoreChunk.State.RUNNING,
        attempts=F("attempts") + 1,
        worker=worker_name(),
        claim=claim,
        claimed_at=now,
        heartbeat_at=now,
        lease_expires_at=now + rescore_lease(),
        finished_at=None,
    )
    if not taken:
        return None
    chunk.refresh_from_db()
    return chunk


def _chunk_record(chunk: RescoreChunk, result: ChunkResult) -> None:
    """Inside the transaction that writes the chunk's cards: its counts, added to the job once.

    The first run of a chunk to commit counts it (a worker taken for dead that finishes after
    all, or the run that replaced it); another finds it done and adds nothing.
    """
    now = timezone.now()
    recorded = (
        RescoreChunk.objects.filter(pk=chunk.pk)
        .exclude(state=RescoreChunk.State.DONE)
        .update(
            state=RescoreChunk.State.DONE,
            projects=result.projects,
            changed=result.changed,
            republished=result.republished,
            finished_at=now,
            lease_expires_at=None,
            error="",
        )
    )
    if not recorded:
        return
    RescoreJob.objects.filter(pk=chunk.job_id).update(
        done=F("done") + result.projects,
        changed=F("changed") + result.changed,
        republished=F("republished") + result.republished,
        chunks_done=F("chunks_done") + 1,
    )
    # Every chunk done: the job is, even one failed earlier whose failed chunks were run again.
    RescoreJob.objects.filter(pk=chunk.job_id, chunks_done__gte=F("chunks")).exclude(
        state=RescoreJob.State.DONE
    ).update(state=RescoreJob.State.DONE, finished_at=now, error="")


def rescore_chunk_beat(*, chunk_id: int, claim: str) -> bool:
    """A sign of life from the worker holding the chunk: its lease starts again. False when the
    chunk is no longer this claim's (done, or taken over after the lease ran out)."""
    now = timezone.now()
    return bool(
        RescoreChunk.objects.filter(pk=chunk_id, claim=claim, state=RescoreChunk.State.RUNNING).update(
            heartbeat_at=now, lease_expires_at=now + rescore_lease()
        )
    )


class Heartbeat:
    """While a chunk runs, a thread renews its lease four times a lease, on its own connection:
    a chunk may take longer than a lease, and only a dead worker stops renewing."""

    def __init__(self, *, chunk_id: int, claim: str) -> None:
        self.chunk_id, self.claim = chunk_id, claim
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"rescore-heartbeat-{chunk_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        every = rescore_lease().total_seconds() / 4
        try:
            while not self.stopped.wait(every):
                try:
                    if not rescore_chunk_beat(chunk_id=self.chunk_id, claim=self.claim):
                        return
                except DatabaseError:  # the next beat may get through; the lease allows three misses
                    logger.warning("rescoring chunk %s: heartbeat failed", self.chunk_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections


@dataclass
class Reaped:
    requeued: list[RescoreChunk] = field(default_factory=list)  # worker died: queued again
    failed: list[RescoreChunk] = field(default_factory=list)  # out of attempts: the job failed
    lost: list[RescoreChunk] = field(default_factory=list)  # queued, but its task is gone: queued again

    def __bool__(self) -> bool:
        return bool(self.requeued or self.failed or self.lost)


def rescore_chunks_stalled(*, job_id: int | None = None):
    """Chunks whose worker has given no sign of life for a whole lease."""
    chunks = RescoreChunk.objects.filter(
        state=RescoreChunk.State.RUNNING, lease_expires_at__lt=timezone.now()
    )
    return chunks.filter(job_id=job_id) if job_id is not None else chunks


def rescore_job_reap(*, job_id: int | None = None, lost_tasks: bool = True) -> Reaped:
    """Queue again every chunk (of one job, or of all) whose worker died; a chunk that has
    used its attempts fails its job instead, with the reason. With ``lost_tasks``, also queue
    again a queued chunk whose task is gone (the task database's record says it ended, or was
    never written): a longer look, left to the watchdog and the command.
    Several workers may reap at once: each chunk is taken by one of them."""
    from projects.tasks import rescore_chunk_enqueue

    reaped = Reaped()
    attempts = rescore_attempts()
    for chunk in rescore_chunks_stalled(job_id=job_id).order_by("pk"):
        since = timezone.localtime(chunk.heartbeat_at or chunk.claimed_at).strftime("%Y-%m-%d %H:%M:%S")
        lost = f"its worker {chunk.worker} stopped without finishing (no sign of life since {since})"
        mine = RescoreChunk.objects.filter(
            pk=chunk.pk,
            claim=chunk.claim,
            state=RescoreChunk.State.RUNNING,
            lease_expires_at__lt=timezone.now(),
        )
        if chunk.attempts >= attempts:
            error = (
                f"projects {chunk.first_id}–{chunk.last_id}: {lost}, after {chunk.attempts} attempts "
                "(killed, out of memory?); not run again. Find the cause, then run "
                f"`manage.py rescore_reap --retry-failed {chunk.job_id}` or `manage.py rescore`."
            )
            if mine.update(state=RescoreChunk.State.FAILED, lease_expires_at=None, error=error):
                RescoreJob.objects.filter(pk=chunk.job_id).exclude(state=RescoreJob.State.DONE).update(
                    state=RescoreJob.State.FAILED, error=error
                )
                _task_lost(chunk, lost)
                logger.error("rescoring job %s: %s", chunk.job_id, error)
                reaped.failed.append(chunk)
            continue
        note = f"attempt {chunk.attempts}: {lost}; queued again"
        if mine.update(state=RescoreChunk.State.QUEUED, claim="", lease_expires_at=None, error=note):
            _task_lost(chunk, lost)
            logger.warning(
                "rescoring job %s, projects %s–%s: %s", chunk.job_id, chunk.first_id, chunk.last_id, note
            )
            transaction.on_commit(lambda chunk=chunk: rescore_chunk_enqueue(chunk))
            reaped.requeued.append(chunk)
    for chunk in _chunks_without_task(job_id) if lost_tasks else ():
        transaction.on_commit(lambda chunk=chunk: rescore_chunk_enqueue(chunk))
        reaped.lost.append(chunk)
    return reaped


def database_task_results():
    """django-tasks-db's task records, when the default backend keeps them (else None)."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult


def _task_lost(chunk: RescoreChunk, why: str) -> None:
    # The dead worker's task would show "running" for ever in the task database.
    tasks = database_task_results()
    if tasks is None or not chunk.task_id:
        return
    tasks.objects.filter(pk=chunk.task_id, status="RUNNING").update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=f"WorkerLost: {why}; the chunk is no longer this task's.\n",
    )


def _chunks_without_task(job_id: int | None) -> list[RescoreChunk]:
    """Queued chunks whose task ended without running them, or was never queued (the process
    queueing them stopped), a lease after their job was created."""
    tasks = database_task_results()
    if tasks is None:
        return []
    queued = RescoreChunk.objects.filter(
        state=RescoreChunk.State.QUEUED, job__created_at__lt=timezone.now() - rescore_lease()
    )
    if job_id is not None:
        queued = queued.filter(job_id=job_id)
    queued = list(queued.order_by("pk")[:1000])
    waiting = set(
        tasks.objects.filter(
            pk__in=[c.task_id for c in queued if c.task_id], status__in=["READY", "RUNNING"]
        ).values_list("pk", flat=True)
    )
    return [chunk for chunk in queued if not chunk.task_id or uuid.UUID(chunk.task_id) not in waiting]


def rescore_job_retry(*, job_id: int) -> list[RescoreChunk]:
    """A failed job's failed chunks, given their attempts again and queued: the job runs on."""
    from projects.tasks import rescore_chunk_enqueue, rescore_watch_arm

    with transaction.atomic():
        chunks = list(
            RescoreChunk.objects.select_for_update().filter(job_id=job_id, state=RescoreChunk.State.FAILED)
        )
        RescoreChunk.objects.filter(pk__in=[c.pk for c in chunks]).update(
            state=RescoreChunk.State.QUEUED, attempts=0, claim="", lease_expires_at=None
        )
        if chunks:
            RescoreJob.objects.filter(pk=job_id, state=RescoreJob.State.FAILED).update(
                state=RescoreJob.State.RUNNING, error=""
            )
            for chunk in chunks:
                transaction.on_commit(lambda chunk=chunk: rescore_chunk_enqueue(chunk))
            transaction.on_commit(lambda: rescore_watch_arm(job_id=job_id))
    return chunks


def rescore_watch_take(*, job_id: int, token: str | None, stale_before=None) -> str | None:
    """Hand the job's watch to a new token and return it: from ``token`` (a watchdog's round),
    or from a watchdog silent since ``stale_before`` (re-armed after its worker died), or
    unconditionally. None when the watch is someone else's or the job has nothing left to do."""
    if not RescoreChunk.objects.filter(
        job_id=job_id, state__in=[RescoreChunk.State.QUEUED, RescoreChunk.State.RUNNING]
    ).exists():
        return None
    jobs = RescoreJob.objects.filter(pk=job_id)
    if token is not None:
        jobs = jobs.filter(watch_token=token)
    if stale_before is not None:
        jobs = jobs.filter(
            Q(watched_at__lt=stale_before) | Q(watched_at__isnull=True, created_at__lt=stale_before)
        )
    successor = uuid.uuid4().hex
    return successor if jobs.update(watch_token=successor, watched_at=timezone.now()) else None
