"""Background tasks (django-tasks, stored by django-tasks-db, run by `manage.py db_worker`)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from projects.models import Methodology, RescoreJob
from projects.models.jobs import RescoreChunk
from projects.services.leases import database_task_results
from projects.services.rescoring import (
    rescore_job_chunk,
    rescore_job_create,
    rescore_job_reap,
    rescore_watch_interval,
    rescore_watch_take,
)


@task()
def rescore_chunk(job_id: int, first_id: int, last_id: int) -> dict:
    """Rescore one chunk of a job; any worker may take it, several run at once. Then look for
    chunks of the job whose worker died, and for a watchdog that stopped."""
    result = rescore_job_chunk(job_id=job_id, first_id=first_id, last_id=last_id)
    reaped = rescore_job_reap(job_id=job_id, lost_tasks=False)
    rescore_watch_arm(job_id=job_id, stale_before=timezone.now() - 3 * rescore_watch_interval())
    return {
        "projects": result.projects,
        "changed": result.changed,
        "republished": result.republished,
        "requeued": len(reaped.requeued) + len(reaped.lost),
    }


@task()
def rescore_watch(job_id: int, token: str) -> dict:
    """A job's watchdog: every half lease, queue again the chunks whose worker died (idle
    workers run it too, so a chunk lost last is found). It queues its own next round first, in
    one transaction with taking the watch; it stops when the job has nothing left to do."""
    with transaction.atomic():
        successor = rescore_watch_take(job_id=job_id, token=token)
        if successor is not None:
            _watch_enqueue(job_id, successor)
    if successor is None:
        return {"watching": False}
    reaped = rescore_job_reap(job_id=job_id)
    return {
        "watching": True,
        "requeued": len(reaped.requeued) + len(reaped.lost),
        "failed": len(reaped.failed),
    }


def _watch_enqueue(job_id: int, token: str) -> None:
    rescore_watch.using(run_after=timezone.now() + rescore_watch_interval()).enqueue(job_id, token)


def rescore_watch_arm(*, job_id: int, stale_before=None) -> bool:
    """Start the job's watchdog (or a new one, when the last was silent since ``stale_before``).

    Only with the database backend: its tasks run in workers that may die; the immediate
    backend runs a chunk inside the caller, and the dummy one runs nothing.
    """
    if database_task_results() is None:
        return False
    with transaction.atomic():
        token = rescore_watch_take(job_id=job_id, token=None, stale_before=stale_before)
        if token is not None:
            _watch_enqueue(job_id, token)
    return token is not None


def rescore_chunk_enqueue(chunk: RescoreChunk) -> None:
    """Queue a chunk's task, and note which task has it (the reaper reads it)."""
    result = rescore_chunk.enqueue(chunk.job_id, chunk.first_id, chunk.last_id)
    RescoreChunk.objects.filter(pk=chunk.pk).update(task_id=str(result.id))


def rescore_start(*, methodology: Methodology, user=None, chunk: int | None = None) -> RescoreJob:
    """Create a job rescoring every project under ``methodology`` and queue its chunks, and its
    watchdog, once the surrounding transaction commits."""
    job, ranges = rescore_job_create(
        methodology=methodology, chunk=chunk or settings.RESCORE_CHUNK, user=user
    )

    def enqueue() -> None:
        for row in job.chunk_rows.order_by("first_id"):
            rescore_chunk_enqueue(row)
        rescore_watch_arm(job_id=job.pk)

    if ranges:
        transaction.on_commit(enqueue)
    return job


@task()
def uncertainty_refresh(run_id: int) -> dict:
    """Compute a queued uncertainty run (projects.services.uncertainty): requested after
    publications, withdrawals and a method release's republications, one at a time."""
    from projects.services.uncertainty import uncertainty_compute, uncertainty_take

    run = uncertainty_take(run_id)
    if run is None:
        return {"computed": False}
    uncertainty_watch_enqueue(run.pk)  # should this worker die, another finds the run lost
    run = uncertainty_compute(run=run)
    # The saved profiles with criterion weights follow the same changes, gathered the same way.
    profiles = profiles_refresh_enqueue()
    return {"computed": run.state == run.State.DONE, "projects": run.projects, "profiles": profiles}


@task()
def uncertainty_watch(run_id: int) -> dict:
    """A running uncertainty run's watchdog: every half lease until the run ends; a run whose
    worker gave no sign of life for a lease fails, and a new run is queued."""
    from projects.services.uncertainty import uncertainty_reap

    state = uncertainty_reap(run_id)
    if state == "running":
        uncertainty_watch_enqueue(run_id)
    return {"state": state}


def uncertainty_watch_enqueue(run_id: int) -> bool:
    """Queue the run's next look, half a lease ahead. Only with the database backend: its tasks
    run in workers that may die; the immediate backend computes inside the caller."""
    from projects.services.uncertainty import uncertainty_lease

    if database_task_results() is None:
        return False
    uncertainty_watch.using(run_after=timezone.now() + uncertainty_lease() / 2).enqueue(run_id)
    return True


def uncertainty_refresh_enqueue(run) -> None:
    """Queue ``run`` for a worker, UNCERTAINTY_DELAY seconds ahead so that a burst of
    publications is one run."""
    if not uncertainty_refresh.get_backend().supports_defer:  # an immediate backend: now
        uncertainty_refresh.enqueue(run.pk)
        return
    delay = timedelta(seconds=settings.UNCERTAINTY_DELAY)
    uncertainty_refresh.using(run_after=timezone.now() + delay).enqueue(run.pk)


@task()
def profile_compute(profile_id: int) -> dict:
    """Compute the stored ranking of a weighting profile with criterion weights
    (projects.services.saved_profiles): after it is saved, and after the data change."""
    from projects.services.saved_profiles import profile_compute as compute

    return {"projects": compute(profile_id)}


def profile_compute_enqueue(profile_id: int) -> None:
    profile_compute.enqueue(profile_id)


def profiles_refresh_enqueue() -> int:
    """Queue every profile with criterion weights whose stored ranking is not of the data as
    they are (after an uncertainty run: the runs follow every change the public sees, gathered)."""
    from projects.services.saved_profiles import stale_profiles

    stale = stale_profiles()
    for profile_id in stale:
        profile_compute.enqueue(profile_id)
    return len(stale)


@task()
def webhook_fanout(event_id: int) -> dict:
    """Create and queue the deliveries of a webhook event (projects.services.webhook_delivery)."""
    from projects.services.webhook_delivery import event_fan_out

    return {"deliveries": event_fan_out(event_id)}


@task(takes_context=True)
def webhook_send(context, delivery_id: int, dead_task: str = "") -> dict:
    """One attempt of a webhook delivery, when it is due and no other worker has it. A second
    look, queued with a claim for the end of its lease, names the claiming task (``dead_task``):
    still "running" by then, its worker died."""
    from projects.services.webhook_delivery import delivery_send

    task_id = str(context.task_result.id)
    return {"outcome": delivery_send(delivery_id, task_id=task_id, dead_task=dead_task)}


def _later(task_, after: timedelta | None):
    """``task_`` to run ``after`` from now (None: now). A backend that cannot defer (the
    immediate one in tests) runs nothing later: None."""
    if after is None:
        return task_
    if not task_.get_backend().supports_defer:
        return None
    return task_.using(run_after=timezone.now() + max(after, timedelta(0)))


def webhook_fanout_enqueue(event_id: int, *, after: timedelta | None = None) -> None:
    if (queued := _later(webhook_fanout, after)) is not None:
        queued.enqueue(event_id)


def webhook_send_enqueue(delivery_id: int, *, after: timedelta | None = None, dead_task: str = "") -> None:
    if (queued := _later(webhook_send, after)) is not None:
        queued.enqueue(delivery_id, dead_task) if dead_task else queued.enqueue(delivery_id)


def webhook_send_enqueue_many(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        webhook_send.enqueue(delivery_id)
