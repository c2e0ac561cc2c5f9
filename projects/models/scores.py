"""Score cards: what the engine computed for a project under a method version, kept as history.

A new card is stored only when the result changes, so the history is the list of score changes.
The served card is kept whole in ``card``; the figures people filter and sort on are copied
into columns so that lists never have to open the JSON.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.vocabularies import Confidence, Grade, RiskLevel, ScoreStatus

from .methodology import Methodology
from .projects import Project


class ScoreCard(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="score_history", verbose_name=_("project")
    )
    methodology = models.ForeignKey(
        Methodology, on_delete=models.PROTECT, related_name="score_cards", verbose_name=_("method")
    )
    computed_at = models.DateTimeField(_("computed"), default=timezone.now, db_index=True)
    card = models.JSONField(_("score card"))
    status = models.CharField(_("status"), max_length=20, choices=ScoreStatus.choices)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    net_score = models.FloatField(_("net score"), null=True)
    net_low = models.FloatField(_("net score, low"), null=True)
    net_high = models.FloatField(_("net score, high"), null=True)
    confidence = models.CharField(_("confidence"), max_length=10, choices=Confidence.choices, blank=True)
    sdg7 = models.FloatField("SDG 7", null=True)
    sdg9 = models.FloatField("SDG 9", null=True)
    sdg12 = models.FloatField("SDG 12", null=True)
    debris = models.FloatField(_("debris risk"), null=True)
    equity = models.FloatField(_("equity risk"), null=True)
    debris_level = models.CharField(
        _("debris risk level"), max_length=10, choices=RiskLevel.choices, blank=True
    )
    equity_level = models.CharField(
        _("equity risk level"), max_length=10, choices=RiskLevel.choices, blank=True
    )
    debris_severe = models.BooleanField(_("severe debris flag"), default=False)
    equity_severe = models.BooleanField(_("severe equity flag"), default=False)

    class Meta:
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"
        verbose_name = _("score card")
        verbose_name_plural = _("score cards")
        indexes = [
            models.Index(fields=["project", "-computed_at"], name="scorecard_history"),
            models.Index(fields=["grade"], name="scorecard_grade"),
            models.Index(fields=["net_score"], name="scorecard_net_score"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} @ {self.computed_at:%Y-%m-%d %H:%M}: {self.grade or self.status}"

    @classmethod
    def from_card(cls, *, project_id: int, methodology: Methodology, card: dict) -> "ScoreCard":
        """An unsaved ScoreCard whose columns mirror the served card."""
        return cls(project_id=project_id, methodology=methodology, card=card, **card_columns(card))


# Each column copied from a card, with where it sits in the card; the text columns store a
# missing value (no grade, no level) as blank.
CARD_FIGURES = {
    "status": ("status",),
    "grade": ("overall", "grade"),
    "net_score": ("overall", "value"),
    "net_low": ("overall", "low"),
    "net_high": ("overall", "high"),
    "confidence": ("confidence",),
    "sdg7": ("dimensions", "sdg7", "value"),
    "sdg9": ("dimensions", "sdg9", "value"),
    "sdg12": ("dimensions", "sdg12", "value"),
    "debris": ("dimensions", "debris", "value"),
    "equity": ("dimensions", "equity", "value"),
    "debris_level": ("dimensions", "debris", "level"),
    "equity_level": ("dimensions", "equity", "level"),
    "debris_severe": ("dimensions", "debris", "severe"),
    "equity_severe": ("dimensions", "equity", "severe"),
}
BLANK_WHEN_MISSING = {"grade", "confidence", "debris_level", "equity_level"}


def card_columns(card: dict) -> dict:
    """The columns a card's figures are copied into (in CARD_FIGURES order), so lists never
    open the JSON."""
    columns = {}
    for column, path in CARD_FIGURES.items():
        value = card
        for key in path:
            value = value[key]
        columns[column] = (value or "") if column in BLANK_WHEN_MISSING else value
    return columns
