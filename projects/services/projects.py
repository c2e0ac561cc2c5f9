"""Writing operators, projects and their ratings from validated interchange records.

The import command and the API's writes both come through here, so a rating is stored the same
way, with the same checks, whichever door it came in by. Records are validated beforehand by
projects.interchange.schema; these functions assume clean input.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from projects.models import Assessment, Criterion, Operator, Project

from .ratings import assessment_remove, assessment_save

PROJECT_FIELDS = [
    "name",
    "target_body",
    "resources",
    "phase",
    "launch_year",
    "origin",
    "summary",
    "summary_ja",
    "links",
]


class OperatorConflict(ValueError):
    """A record describes an existing operator differently: operators are shared by every
    project that names them, so writes about a project never change one (the admin does)."""

    def __init__(self, operator: Operator, differences: list[str]):
        self.operator, self.differences = operator, differences
        super().__init__(
            f"{operator.name!r} exists with {', '.join(differences)}; a project's record does not change "
            f"an operator (refer to it as it is, by its slug {operator.slug!r}, or change it in the admin)."
        )


def operator_upsert(*, name: str, country: str, kind: str) -> Operator:
    """The operator of that name, created when new; an existing one is never changed here
    (OperatorConflict when the record describes it differently)."""
    operator, created = Operator.objects.get_or_create(name=name, defaults={"country": country, "kind": kind})
    if not created:
        described = [("country", operator.country, country), ("kind", operator.kind, kind)]
        differences = [f"{field} {stored!r}" for field, stored, given in described if stored != given]
        if differences:
            raise OperatorConflict(operator, differences)
    return operator


class ProjectExists(ValueError):
    """A project with the record's slug exists already: a create never changes it."""


def project_create(*, record: dict, operator: Operator) -> Project:
    """Insert the project of the record; ProjectExists when its slug is taken. The unique index
    decides, not a read before the write: of concurrent creates of one slug, exactly one wins."""
    values = {name: record.get(name) for name in PROJECT_FIELDS}
    project = Project(slug=record["slug"], operator=operator, **values)
    try:
        project.full_clean(exclude=["current_score"], validate_unique=False)
        with transaction.atomic():  # a savepoint: the caller's transaction goes on after a refusal
            project.save(force_insert=True)
    except (IntegrityError, ValidationError):
        # Taken by a create that committed first: before this insert (the model's own check
        # of the slug), or while it waited on the unique index.
        if Project.objects.filter(slug__iexact=record["slug"]).exists():  # in any case
            raise ProjectExists(record["slug"]) from None
        raise
    return project


def project_upsert(*, record: dict, operator: Operator) -> tuple[Project, str]:
    """Create or update the project with the record's slug: "created", "updated" or "unchanged"."""
    values = {name: record.get(name) for name in PROJECT_FIELDS}
    project = Project.objects.filter(slug=record["slug"]).first()
    if project is not None:
        project.apply_pending()  # compared with, and changing, the draft
    if project is None:
        project = Project(slug=record["slug"], operator=operator, **values)
        project.full_clean(exclude=["current_score"])
        project.save()
        return project, "created"
    changed = project.operator_id != operator.pk or any(
        getattr(project, name) != value for name, value in values.items()
    )
    if not changed:
        return project, "unchanged"
    project.operator = operator
    for name, value in values.items():
        setattr(project, name, value)
    project.full_clean(exclude=["current_score"], validate_unique=False)
    project.save()
    return project, "updated"


def assessment_values(item: dict) -> dict:
    """Model field values of a validated interchange assessment."""
    return {
        "level": None if item["not_applicable"] else item["rating"],
        "not_applicable": item["not_applicable"],
        "justification": item["evidence"],
        "justification_ja": item.get("evidence_ja", ""),
        "evidence_grade": item.get("evidence_grade") or "",
        "source_url": item["source_url"],
    }


def assessment_set(
    *, project: Project, criterion: Criterion, item: dict, assessment: Assessment | None = None
) -> tuple[Assessment, bool]:
    """Store one rating (the score card follows in the same transaction); True when it changed."""
    values = assessment_values(item)
    if assessment is None:
        assessment = Assessment.objects.filter(project=project, criterion=criterion).first()
    if assessment is None:
        assessment = Assessment(project=project, criterion=criterion)
    elif all(getattr(assessment, name) == value for name, value in values.items()):
        return assessment, False
    for name, value in values.items():
        setattr(assessment, name, value)
    assessment_save(assessment)
    return assessment, True


def assessments_replace(*, project: Project, items: list[dict], criteria: dict) -> bool:
    """Make the project's ratings under the method of ``criteria`` exactly ``items``."""
    stored = {
        assessment.criterion.code: assessment
        for assessment in project.assessments.select_related("criterion").filter(
            criterion__in=criteria.values()
        )
    }
    changed = False
    for item in items:
        code = item["criterion"]
        _, item_changed = assessment_set(
            project=project, criterion=criteria[code], item=item, assessment=stored.pop(code, None)
        )
        changed = changed or item_changed
    for assessment in stored.values():  # not listed any more: missing again
        assessment_remove(assessment)
        changed = True
    return changed
