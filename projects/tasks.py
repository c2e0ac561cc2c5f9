"""Background tasks (django-tasks, stored by django-tasks-db, run by `manage.py db_worker`)."""

from django.conf import settings
from django.db import transaction
from django_tasks import task

from projects.models import Methodology, RescoreJob
from projects.services.rescoring import rescore_job_chunk, rescore_job_create


@task()
def rescore_chunk(job_id: int, first_id: int, last_id: int) -> dict:
    """Rescore one chunk of a job; any worker may take it, several run at once."""
    result = rescore_job_chunk(job_id=job_id, first_id=first_id, last_id=last_id)
    return {"projects": result.projects, "changed": result.changed, "republished": result.republished}


def rescore_start(*, methodology: Methodology, user=None, chunk: int | None = None) -> RescoreJob:
    """Create a job rescoring every project under ``methodology`` and queue its chunks once the
    surrounding transaction commits."""
    job, ranges = rescore_job_create(
        methodology=methodology, chunk=chunk or settings.RESCORE_CHUNK, user=user
    )

    def enqueue() -> None:
        for first_id, last_id in ranges:
            rescore_chunk.enqueue(job.pk, first_id, last_id)

    transaction.on_commit(enqueue)
    return job
