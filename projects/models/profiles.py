"""Weighting profiles an API key keeps (the method's §9), and the stored ranking of a profile
with criterion weights (computed in the background: it needs every project's ratings)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .api_keys import ApiKey
from .projects import Project

MAX_PROFILES_PER_KEY = 50
# Those with criterion weights cost a background computation over every project after each change
# of the data, and a stored ranking: fewer.
MAX_STORED_PROFILES_PER_KEY = 5


class WeightingProfile(models.Model):
    """A key's own weights: for the SDG dimensions (numbers 0–100, only their ratios count), α
    (0–1) and optionally criteria (whole numbers 0–10). Kept as the client wrote them, as exact
    decimal text; checked by the engine's ``Profile.from_values`` on every write."""

    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, related_name="profiles", verbose_name=_("API key")
    )
    name = models.CharField(_("name"), max_length=100)
    dimensions = models.JSONField(_("dimension weights"))
    alpha = models.CharField(_("risk penalty α"), max_length=32)
    criteria = models.JSONField(_("criterion weights"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The stored ranking of a profile with criterion weights: the profile version and the data
    # (the newest publication's id) it was computed from; current while both are.
    computed_at = models.DateTimeField(_("ranking computed"), null=True, blank=True, editable=False)
    computed_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    computed_data = models.BigIntegerField(null=True, blank=True, editable=False)
    computed_projects = models.PositiveIntegerField(null=True, blank=True, editable=False)
    compute_error = models.TextField(_("last computation error"), blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("weighting profile")
        verbose_name_plural = _("weighting profiles")
        ordering = ["api_key", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def needs_ratings(self) -> bool:
        """Criterion weights change the dimension values: the ranking is computed in the background."""
        return bool(self.criteria)


class ProfileResult(models.Model):
    """One project's place in a profile's stored ranking."""

    profile = models.ForeignKey(WeightingProfile, on_delete=models.CASCADE, related_name="results")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()
    official_rank = models.PositiveIntegerField(null=True)  # null: no official net score
    net = models.FloatField()  # as served: one decimal, halves up
    grade = models.CharField(max_length=2)
    grade_cap = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "project"], name="profile_result_once")]
        indexes = [models.Index(fields=["profile", "rank"], name="profile_result_rank")]

    def __str__(self) -> str:
        return f"{self.project_id} ranked {self.rank} under profile {self.profile_id}"
