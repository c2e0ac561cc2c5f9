"""Rescoring every project under a method version as a job: chunks of project ids, each run by a
worker (services.rescore_chunks: read, score, write, in bounded memory) and counted once, in the
transaction that writes its cards; the job's progress (RescoreJob) is the sum of its chunks'.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from projects.models import Methodology, RescoreJob
from projects.models.jobs import RescoreChunk

from .leases import Heartbeat, database_task_results, tasks_lost
from .rescore_chunks import ChunkResult, project_id_ranges, rescore_range
from .webhook_events import rescoring_event

logger = logging.getLogger(__name__)


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
    try:
        beat = partial(rescore_chunk_beat, chunk_id=chunk.pk, claim=chunk.claim)
        with Heartbeat(
            beat, lease=lambda: rescore_lease().total_seconds(), name=f"rescoring chunk {chunk.pk}"
        ):
            return rescore_range(
                methodology=job.methodology,
                first_id=first_id,
                last_id=last_id,
                bookkeeping=lambda result: _chunk_record(chunk, result),
            )
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
    finished = (
        RescoreJob.objects.filter(pk=chunk.job_id, chunks_done__gte=F("chunks"))
        .exclude(state=RescoreJob.State.DONE)
        .update(state=RescoreJob.State.DONE, finished_at=now, error="")
    )
    if finished:
        rescoring_event(chunk.job_id)  # partners' webhooks: one event for the whole rescoring


def rescore_chunk_beat(*, chunk_id: int, claim: str) -> bool:
    """A sign of life from the worker holding the chunk: its lease starts again. False when the
    chunk is no longer this claim's (done, or taken over after the lease ran out)."""
    now = timezone.now()
    return bool(
        RescoreChunk.objects.filter(pk=chunk_id, claim=claim, state=RescoreChunk.State.RUNNING).update(
            heartbeat_at=now, lease_expires_at=now + rescore_lease()
        )
    )


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


def _task_lost(chunk: RescoreChunk, why: str) -> None:
    if chunk.task_id:
        tasks_lost([chunk.task_id], f"{why}; the chunk is no longer this task's.")


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
