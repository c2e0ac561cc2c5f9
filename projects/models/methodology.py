"""Methodology versions and their criteria: the scoring method stored as data.

A published version never changes (the admin shows it read-only and save() refuses), so every
score card can say which method it was computed under and mean the same thing forever.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from projects import actors
from projects.methodology.rules import level_texts_problem, parameter_problems
from projects.vocabularies import Dimension, PublicationState


def _localised(values: dict, language: str | None = None) -> str:
    language = (language or get_language() or "en")[:2]
    return values.get(language) or values.get("en", "")


class Methodology(models.Model):
    version = models.CharField(_("version"), max_length=20, unique=True)
    state = models.CharField(
        _("state"), max_length=10, choices=PublicationState.choices, default=PublicationState.DRAFT
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # Everything of the method file but its criteria: α, bands, grades, caps, texts.
    parameters = models.JSONField(_("parameters"))
    # A version is released by an administrator other than the one who drafted it.
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("released by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-version"]
        verbose_name = _("methodology version")
        verbose_name_plural = _("methodology versions")
        permissions = [("publish_methodology", _("Can publish a method version (every project is rescored)"))]

    def __str__(self) -> str:
        return f"{_('Method')} {self.version}"

    @property
    def is_published(self) -> bool:
        return self.state == PublicationState.PUBLISHED

    def title(self, language: str | None = None) -> str:
        return _localised(self.parameters.get("title", {}), language)

    def clean(self):
        super().clean()
        self.check_parameters()

    def check_parameters(self) -> None:
        """A draft's parameters are checked whenever it is saved, naming the field ("parameters:
        missing 'dimensions'"), so that a release never fails on them."""
        if not self.is_published:
            problems = parameter_problems(self.parameters, version=self.version)
            if problems:
                raise ValidationError({"parameters": problems})

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            stored = Methodology.objects.filter(pk=self.pk).values_list("state", flat=True).first()
            if stored == PublicationState.PUBLISHED:
                raise ValidationError(_("A published methodology version cannot be changed."))
        self.check_parameters()
        if self._state.adding and self.drafted_by_id is None:
            actor = actors.current()
            self.drafted_by = actor.user if actor else None
        super().save(*args, **kwargs)


class Criterion(models.Model):
    methodology = models.ForeignKey(
        Methodology, on_delete=models.PROTECT, related_name="criteria", verbose_name=_("methodology")
    )
    code = models.CharField(_("code"), max_length=10)
    dimension = models.CharField(_("dimension"), max_length=10, choices=Dimension.choices)
    weight = models.PositiveSmallIntegerField(_("weight"), validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    references = models.CharField(_("targets or instruments"), max_length=300, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    levels_en = models.JSONField(_("level texts 0–4 (English)"))
    levels_ja = models.JSONField(_("level texts 0–4 (Japanese)"))

    class Meta:
        ordering = ["methodology", "position"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["methodology", "code"], name="criterion_code_unique"),
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name()}"

    def clean(self):
        """Level texts: one for each level 0–4, in both languages."""
        super().clean()
        errors = {}
        for language in ("en", "ja"):
            problem = level_texts_problem(getattr(self, f"levels_{language}"), language)
            if problem:
                errors[f"levels_{language}"] = problem
        if errors:
            raise ValidationError(errors)

    def name(self, language: str | None = None) -> str:
        return _localised({"en": self.name_en, "ja": self.name_ja}, language)

    def description(self, language: str | None = None) -> str:
        return _localised({"en": self.description_en, "ja": self.description_ja}, language)

    def level_texts(self, language: str | None = None) -> list[str]:
        language = (language or get_language() or "en")[:2]
        return self.levels_ja if language == "ja" and self.levels_ja else self.levels_en

    def level_text(self, level: int, language: str | None = None) -> str:
        return self.level_texts(language)[level]

    @property
    def is_risk(self) -> bool:
        return self.dimension in (Dimension.DEBRIS, Dimension.EQUITY)
