"""python manage.py rescore_reap [--job ID] [--retry-failed ID]

By hand what the task workers do by themselves (see docs/deploy.md, "Workers"): queue again every
rescoring chunk whose worker died (no sign of life for a lease), fail the job of a chunk that has
used its attempts, and list what it found. ``--retry-failed`` gives a failed job's failed chunks
their attempts again, once the cause is found.
"""

from django.core.management.base import BaseCommand, CommandError

from projects.models import RescoreJob
from projects.models.jobs import RescoreChunk
from projects.services.rescoring import rescore_job_reap, rescore_job_retry


class Command(BaseCommand):
    help = "Queue again the rescoring chunks whose worker died; list stalled and failed chunks."

    def add_arguments(self, parser):
        parser.add_argument("--job", type=int, help="only this rescoring job (default: every job)")
        parser.add_argument(
            "--retry-failed", type=int, metavar="JOB", help="queue a failed job's failed chunks again"
        )

    @staticmethod
    def _chunk(chunk: RescoreChunk) -> str:
        return f"Job {chunk.job_id}, projects {chunk.first_id}–{chunk.last_id}"

    def handle(self, *args, job, retry_failed, **options):
        if retry_failed is not None:
            if not RescoreJob.objects.filter(pk=retry_failed).exists():
                raise CommandError(f"--retry-failed: no rescoring job {retry_failed}.")
            chunks = rescore_job_retry(job_id=retry_failed)
            self.stdout.write(f"Job {retry_failed}: {len(chunks)} failed chunks queued again.")
            return
        if job is not None and not RescoreJob.objects.filter(pk=job).exists():
            raise CommandError(f"--job: no rescoring job {job}.")
        reaped = rescore_job_reap(job_id=job)
        for chunk in reaped.requeued:
            self.stdout.write(
                f"{self._chunk(chunk)}: worker {chunk.worker} "
                f"stopped (attempt {chunk.attempts}); queued again."
            )
        for chunk in reaped.lost:
            self.stdout.write(f"{self._chunk(chunk)}: its task was lost; queued again.")
        for chunk in reaped.failed:
            self.stdout.write(
                f"{self._chunk(chunk)}: worker {chunk.worker} "
                f"stopped, after {chunk.attempts} attempts; the job failed."
            )
        failed = RescoreChunk.objects.filter(state=RescoreChunk.State.FAILED)
        if job is not None:
            failed = failed.filter(job_id=job)
        for chunk in failed.exclude(pk__in=[c.pk for c in reaped.failed]).order_by("job_id", "first_id"):
            self.stdout.write(f"{self._chunk(chunk)} failed: {chunk.error}")
        if not reaped:
            self.stdout.write("No stalled rescoring chunk.")
