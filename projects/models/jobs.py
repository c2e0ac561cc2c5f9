"""Rescoring jobs: every project rescored under a method version, in chunks, by task workers.

A job is split into chunks of projects (by id range); each chunk is one task that any worker
(``manage.py db_worker``, several at once) may take, and adds its count to ``done`` when it
commits. The admin shows the progress; ``manage.py rescore`` runs the same chunks in-process.
"""

from django.conf import settings
from django.db import models
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

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("rescoring job")
        verbose_name_plural = _("rescoring jobs")

    def __str__(self) -> str:
        return f"{self.methodology} #{self.pk}: {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))
