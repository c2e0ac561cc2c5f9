"""Rescoring jobs: every project rescored under a method version, in chunks, by task workers.

A job is split into chunks of projects (by id range); each chunk is one task that any worker
(``manage.py db_worker``, several at once) may take, and adds its count to ``done`` when it
commits. The admin shows the progress; ``manage.py rescore`` runs the same chunks in-process.

Each chunk has a row of its own (RescoreChunk) so that a worker that dies inside it is noticed:
a worker claims the chunk with a lease it keeps renewing while it works, and a chunk whose lease
ran out is run again by another worker (see projects.services.rescoring).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .methodology import Methodology


class RescoreJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    methodology = models.ForeignKey(
        Methodology, on_delete=models.PROTECT, related_name="rescore_jobs", verbose_name=_("method")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(_("projects"), default=0)
    done = models.PositiveIntegerField(_("projects rescored"), default=0)
    changed = models.PositiveIntegerField(_("new score cards"), default=0)
    republished = models.PositiveIntegerField(
        _("publications under the new method"),
        default=0,
        help_text=_("Published projects whose public card moved to this method (ratings unchanged)."),
    )
    chunks = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The watchdog task that reaps this job's stalled chunks re-queues itself with a new token;
    # a watchdog holding an older token stops (so there is one, however it was restarted).
    watch_token = models.CharField(_("watchdog token"), max_length=32, blank=True, editable=False)
    watched_at = models.DateTimeField(_("last watchdog round"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("rescoring job")
        verbose_name_plural = _("rescoring jobs")

    def __str__(self) -> str:
        return f"{self.methodology} #{self.pk}: {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


class RescoreChunk(models.Model):
    """One chunk of a job (projects first_id..last_id) and who runs it, until when.

    Its counts are recorded in the transaction that writes its cards, once: a chunk run again
    after its worker died adds nothing twice.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(
        RescoreJob, on_delete=models.CASCADE, related_name="chunk_rows", verbose_name=_("job")
    )
    first_id = models.BigIntegerField(_("first project id"))
    last_id = models.BigIntegerField(_("last project id"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=0, help_text=_("Times a worker took this chunk.")
    )
    worker = models.CharField(_("worker"), max_length=100, blank=True, help_text=_("host:process id"))
    claim = models.CharField(_("claim"), max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("taken"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    projects = models.PositiveIntegerField(_("projects rescored"), default=0)
    changed = models.PositiveIntegerField(_("new score cards"), default=0)
    republished = models.PositiveIntegerField(_("publications under the new method"), default=0)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["job", "first_id"]
        verbose_name = _("rescoring chunk")
        verbose_name_plural = _("rescoring chunks")
        constraints = [models.UniqueConstraint(fields=["job", "first_id"], name="rescore_chunk_unique_range")]
        indexes = [models.Index(fields=["state", "lease_expires_at"], name="rescore_chunk_lease_idx")]

    def __str__(self) -> str:
        return f"#{self.job_id} {self.first_id}–{self.last_id} ({self.state})"

    @property
    def stalled(self) -> bool:
        """Running, but its worker has given no sign of life for a whole lease: it is gone."""
        return (
            self.state == self.State.RUNNING
            and self.lease_expires_at is not None
            and self.lease_expires_at < timezone.now()
        )
