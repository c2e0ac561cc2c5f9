"""Stored uncertainty figures (the method's §8): one run over every rated published project,
written whole before readers see it.

A run is computed by ``projects.services.uncertainty`` (a background task after publications and
method releases, or ``manage.py uncertainty``). Its rows are inserted while the run is
``running``; it becomes ``done`` in one transaction that also removes older runs, so a reader
(who reads the latest done run only) sees the whole previous set or the whole new one.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .methodology import Methodology
from .projects import Project
from .publications import Publication


class UncertaintyRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    methodology = models.ForeignKey(
        Methodology, on_delete=models.PROTECT, related_name="+", verbose_name=_("method")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RUNNING)
    # The site generation whose published data the run read (projects.freshness): set when it starts.
    generation = models.PositiveBigIntegerField(_("site generation"), default=0)
    scenarios = models.PositiveIntegerField(_("scenarios (K)"))
    seed = models.BigIntegerField(_("seed"))
    projects = models.PositiveIntegerField(_("projects"), default=0)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    # A running run's sign of life (each chunk of the engine): a run silent for a lease lost its
    # worker, and the watchdog (projects.tasks.uncertainty_watch) fails it and queues another.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("computed"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One run waits at a time: a burst of publications asks for it once (coalesced).
            models.UniqueConstraint(
                fields=["state"], condition=models.Q(state="queued"), name="one_queued_uncertainty_run"
            ),
        ]
        verbose_name = _("uncertainty run")
        verbose_name_plural = _("uncertainty runs")

    def __str__(self) -> str:
        return f"{self.methodology} #{self.pk}: {self.state}"


class ProjectUncertainty(models.Model):
    """One project's figures in one run."""

    run = models.ForeignKey(
        UncertaintyRun, on_delete=models.CASCADE, related_name="figures", verbose_name=_("run")
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", verbose_name=_("project")
    )
    # The publication whose ratings the figures come from: readers show them only while it is
    # the project's current one (a later publication waits for the next run).
    publication = models.ForeignKey(
        Publication,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        verbose_name=_("publication"),
    )
    net_p5 = models.FloatField(_("net score, 5th percentile"))
    net_median = models.FloatField(_("net score, median"))
    net_p95 = models.FloatField(_("net score, 95th percentile"))
    grades = models.JSONField(_("grade shares"), help_text=_("The share of scenarios in each grade."))
    # Its place among the run's projects by their published net scores (ties share a place).
    rank = models.PositiveIntegerField(_("rank as published"), null=True)
    rank_p5 = models.PositiveIntegerField(_("rank, 5th percentile (the better end)"))
    rank_median = models.PositiveIntegerField(_("rank, median"))
    rank_p95 = models.PositiveIntegerField(_("rank, 95th percentile"))
    top10 = models.FloatField(_("share of scenarios in the top 10"))
    grade_changes = models.JSONField(
        _("what would change the grade"),
        default=list,
        help_text=_("Each one-level change of one rating that changes the grade (method §10)."),
    )
    stable = models.BooleanField(
        _("stable"), help_text=_("The official grade in at least nine scenarios in ten.")
    )
    # Each dimension's value unrounded (as float, exactly the engine's value correctly rounded):
    # what a custom weighting profile's ranking is ordered by (method §9). Null: an impact
    # dimension with nothing applicable (it drops out of the impact).
    value_sdg7 = models.FloatField(_("SDG 7 value, unrounded"), null=True)
    value_sdg9 = models.FloatField(_("SDG 9 value, unrounded"), null=True)
    value_sdg12 = models.FloatField(_("SDG 12 value, unrounded"), null=True)
    value_debris = models.FloatField(_("debris risk value, unrounded"), null=True)
    value_equity = models.FloatField(_("equity risk value, unrounded"), null=True)

    class Meta:
        verbose_name = _("project uncertainty")
        verbose_name_plural = _("project uncertainties")
        constraints = [
            models.UniqueConstraint(fields=["run", "project"], name="uncertainty_once_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} in run {self.run_id}: {self.net_p5:.1f}–{self.net_p95:.1f}"
