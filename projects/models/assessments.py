"""Assessments: one analyst's rating of one project on one criterion, with its evidence.

A criterion with no assessment is *missing* (not assessed yet), never a level of 0. Ratings are
saved and removed through the services (``services.ratings.assessment_save`` and
``assessment_remove``, a shell's changes too), which recompute the project's score card in the
same transaction, whatever the path (admin, import, API, shell), so a stored card is never stale.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.validators import LINK_MAX_LENGTH, validate_link, validate_text
from projects.vocabularies import EvidenceGrade

from . import changes
from .methodology import Criterion
from .projects import Project

MAX_LEVEL = 4
# What a rating is, as logged and compared: each change to one is logged with its actor (Change).
RATING_FIELDS = [
    "level",
    "not_applicable",
    "justification",
    "justification_ja",
    "evidence_grade",
    "source_url",
]
MAX_JUSTIFICATION = 4000


# Grades that say where the evidence was published: A (independent or official verification) and
# B (published by the operator) must cite it; C (secondary reporting) and D (analyst judgement)
# may have no link.
GRADES_NEEDING_A_SOURCE = frozenset({EvidenceGrade.A, EvidenceGrade.B})


def rating_errors(
    *,
    level,
    not_applicable: bool,
    justification: str,
    evidence_grade: str,
    source_url: str,
    as_published_before: bool = False,
) -> dict:
    """The rules for one rating that every entry path shares (admin, import, API, shell: the
    model's ``clean`` and ``save`` apply them). The format of a source link is checked apart, by
    the field's validator (``validate_link``), the one every link passes.

    A rated criterion has a level 0–4, a justification and an evidence grade; grades A and B
    need a source link. A criterion marked not applicable has no level and no grade (a grade
    would be refused, never dropped) and needs a justification: why it cannot apply.

    ``as_published_before``: a rating frozen in a past publication (a backup's history) is taken
    as it was published; only the rules the database has always held apply to it.

    Returns {field: message} — empty when the rating is acceptable.
    """
    errors: dict[str, str] = {}
    justified = bool((justification or "").strip())
    if not_applicable:
        if level is not None:
            errors["level"] = _("A criterion marked not applicable has no level.")
        if as_published_before:
            return errors
        if evidence_grade:
            errors["evidence_grade"] = _(
                "A criterion marked not applicable has no evidence grade: clear the grade, or give "
                "a level instead of “not applicable”."
            )
        if not justified:
            errors["justification"] = _(
                "A criterion marked not applicable needs a justification: say why it cannot apply "
                "to this project."
            )
        return errors
    if level is None:
        errors["level"] = _("Give a level from 0 to 4, or mark the criterion not applicable.")
    elif isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
        errors["level"] = _("The level must be a whole number from 0 to 4.")
    if not justified:
        errors["justification"] = _("A rated criterion needs a justification.")
    if evidence_grade not in EvidenceGrade.values:
        errors["evidence_grade"] = _("A rated criterion needs an evidence grade (A, B, C or D).")
    elif (
        evidence_grade in GRADES_NEEDING_A_SOURCE
        and not as_published_before
        and not (source_url or "").strip()
    ):
        errors["source_url"] = _(
            "Evidence grade %(grade)s needs a source link: the page that shows the evidence "
            "(A: independent or official verification; B: published by the operator). Without "
            "one, grade it C or D."
        ) % {"grade": evidence_grade}
    return errors


def project_version_bump(*, project_id: int) -> None:
    """One more version of the project: its working ratings changed (Project.version)."""
    Project.objects.filter(pk=project_id).update(version=models.F("version") + 1, changed_at=timezone.now())


class Assessment(models.Model):
    # No index of its own: the unique (project, criterion) index starts with it. A method version's
    # publication copies every rating (2.5 million at 100,000 projects); each index is one more
    # write per row.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("project"),
        db_index=False,
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("criterion")
    )
    level = models.PositiveSmallIntegerField(_("level"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    justification = models.TextField(
        _("justification"),
        max_length=MAX_JUSTIFICATION,
        blank=True,
        validators=[MaxLengthValidator(MAX_JUSTIFICATION), validate_text],
    )
    # Optional: Japanese pages show it, and the English with an "English only" note where it is
    # missing. The rules ask for the English one (the method's record); this is its translation.
    justification_ja = models.TextField(
        _("justification (Japanese)"),
        max_length=MAX_JUSTIFICATION,
        blank=True,
        default="",
        db_default="",  # for bulk and raw inserts that leave it out (benchmarks, bulk writes)
        validators=[MaxLengthValidator(MAX_JUSTIFICATION), validate_text],
    )
    evidence_grade = models.CharField(
        _("evidence grade"), max_length=1, choices=EvidenceGrade.choices, blank=True
    )
    source_url = models.URLField(
        _("source link"), max_length=LINK_MAX_LENGTH, blank=True, validators=[validate_link]
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assessed by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("assessed"), auto_now=True)

    class Meta:
        ordering = ["criterion__position"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(fields=["project", "criterion"], name="assessment_once_per_criterion"),
            models.CheckConstraint(
                condition=models.Q(level__isnull=True) | models.Q(level__gte=0, level__lte=MAX_LEVEL),
                name="assessment_level_0_to_4",
            ),
            models.CheckConstraint(
                condition=models.Q(not_applicable=True, level__isnull=True)
                | models.Q(not_applicable=False, level__isnull=False),
                name="assessment_level_xor_not_applicable",
            ),
            models.CheckConstraint(
                condition=models.Q(evidence_grade__in=EvidenceGrade.values)
                | models.Q(not_applicable=True, evidence_grade=""),
                name="assessment_rated_has_evidence_grade",
            ),
        ]

    def __str__(self) -> str:
        rating = _("not applicable") if self.not_applicable else self.level
        return f"{self.criterion.code}: {rating}"

    def clean(self) -> None:
        errors = rating_errors(
            level=self.level,
            not_applicable=self.not_applicable,
            justification=self.justification,
            evidence_grade=self.evidence_grade,
            source_url=self.source_url,
        )
        if errors:
            raise ValidationError(errors)

    def rules_check(self) -> None:
        """The rating's rules and its fields' own (text, link format, length), as ``full_clean``
        would check them but without its queries: ``save`` runs it, so that a shell's
        ``assessment.save()`` is held to what the admin, the import and the API refuse."""
        errors: dict[str, list] = {}
        for name in RATING_FIELDS:
            field = self._meta.get_field(name)
            value = getattr(self, field.attname)
            if value in field.empty_values:
                continue
            try:
                field.run_validators(value)
            except ValidationError as error:
                errors[name] = error.error_list
        for name, message in rating_errors(
            level=self.level,
            not_applicable=self.not_applicable,
            justification=self.justification,
            evidence_grade=self.evidence_grade,
            source_url=self.source_url,
        ).items():
            errors.setdefault(name, []).append(ValidationError(message))
        if errors:
            raise ValidationError(errors)

    def rating(self) -> dict:
        return {name: getattr(self, name) for name in RATING_FIELDS}

    def save(self, *args, **kwargs):
        """Save, logging the change with its actor (who is also recorded as the assessor);
        refused, with nothing written, when no actor was stated or when a changed rating breaks
        the rules (ValidationError naming the fields). The card follows through the service
        that saves (services.ratings.assessment_save)."""
        with transaction.atomic():
            before = None
            if not self._state.adding:
                before = Assessment.objects.filter(pk=self.pk).values(*RATING_FIELDS).first()
            after = self.rating()
            if before != after:
                self.rules_check()  # a changed rating meets today's rules; a stored one is kept
            actor = changes.actors.required("rating change") if before != after else None
            if actor is not None:
                self.assessed_by = actor.user
            if before != after:
                # Before the rating's own write: the project's row is then always locked first.
                project_version_bump(project_id=self.project_id)
            super().save(*args, **kwargs)
            if actor is not None:
                changes.record(
                    kind=changes.Change.Kind.RATING,
                    subject=self.criterion.code,
                    old=before,
                    new=after,
                    project_id=self.project_id,
                    actor=actor,
                )

    def delete(self, *args, **kwargs):
        """Remove the rating (the criterion is missing again), logged with its actor; the card
        follows through services.ratings.assessment_remove."""
        actor = changes.actors.required("rating removal")
        project_id, code, before = self.project_id, self.criterion.code, self.rating()
        with transaction.atomic():
            project_version_bump(project_id=project_id)
            result = super().delete(*args, **kwargs)
            changes.record(
                kind=changes.Change.Kind.RATING,
                subject=code,
                old=before,
                new=None,
                project_id=project_id,
                actor=actor,
            )
        return result
