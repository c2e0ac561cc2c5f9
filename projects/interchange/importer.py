"""Importing interchange files: validate everything first, then upsert by slug in one transaction.

A file with any invalid project changes nothing, and each error names the project, the field
and the reason, e.g. ``projects[3] "hera": assessments[2].rating: Ensure this value is less
than or equal to 4.``
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone

from projects.models import Project
from projects.selectors import criteria_of, methodology_current
from projects.services.projects import assessments_replace, operator_upsert, project_upsert
from projects.services.scoring import project_rescore, rescoring_deferred
from projects.vocabularies import PublicationState

from . import FORMAT
from .schema import ProjectRecord, flatten_errors

MAX_PROJECTS = 100_000
ENVELOPE_KEYS = {"format", "methodology", "projects"}


class InterchangeError(ValueError):
    """The file cannot be imported; ``errors`` lists every problem found, one per line."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)


def _validate_envelope(data, version: str) -> list[str]:
    if not isinstance(data, dict):
        return ['The file must hold a JSON object with "format" and "projects".']
    errors = []
    unknown = sorted(set(data) - ENVELOPE_KEYS)
    if unknown:
        errors.append(
            f"{', '.join(unknown)}: unknown top-level field; allowed: format, methodology, projects."
        )
    if data.get("format") != FORMAT:
        errors.append(f'format: must be "{FORMAT}", not {data.get("format")!r}.')
    if "methodology" in data and data["methodology"] != version:
        errors.append(
            f"methodology: the file's ratings are for method {data['methodology']!r}; "
            f"this service scores under method {version}."
        )
    projects = data.get("projects")
    if not isinstance(projects, list):
        errors.append("projects: must be a list of projects.")
    elif len(projects) > MAX_PROJECTS:
        errors.append(f"projects: at most {MAX_PROJECTS} projects per file, not {len(projects)}.")
    return errors


def _label(index: int, raw) -> str:
    slug = raw.get("slug") if isinstance(raw, dict) else None
    return f"projects[{index}]" + (f" {slug!r}" if isinstance(slug, str) else "")


def projects_validate(data) -> list[dict]:
    """Check a whole file; return the cleaned project records or raise InterchangeError."""
    methodology = methodology_current()
    if methodology is None:
        raise InterchangeError(["No published methodology version: nothing can be scored."])
    errors = _validate_envelope(data, methodology.version)
    if errors:
        raise InterchangeError(errors)
    context = {
        "criterion_codes": set(criteria_of(methodology).values_list("code", flat=True)),
        "method_version": methodology.version,
    }
    records, slugs, operators = [], {}, {}
    for index, raw in enumerate(data["projects"]):
        label = _label(index, raw)
        if not isinstance(raw, dict):
            errors.append(f"{label}: must be a JSON object.")
            continue
        record = ProjectRecord(data=raw, context=context)
        if not record.is_valid():
            errors += [f"{label}: {line}" for line in flatten_errors(record.errors)]
            continue
        clean = record.validated_data
        if clean["slug"] in slugs:
            errors.append(f"{label}: slug: also used by projects[{slugs[clean['slug']]}].")
        slugs.setdefault(clean["slug"], index)
        operator = dict(clean["operator"])
        seen = operators.setdefault(operator["name"], (index, operator))
        if seen[1] != operator:
            errors.append(
                f"{label}: operator: {operator['name']!r} is given as {operator['country']}/"
                f"{operator['kind']} here but {seen[1]['country']}/{seen[1]['kind']} in projects[{seen[0]}]."
            )
        records.append(clean)
    if errors:
        raise InterchangeError(errors)
    return records


def projects_import(data, *, publish: bool = False, user=None) -> ImportResult:
    """Upsert the file's projects by slug, atomically; score cards are recomputed in the same
    transaction. Without ``publish``, new projects are drafts and existing ones keep their state.

    A project's "assessments", when present, are its complete set of ratings: criteria not
    listed become missing. Without the key, its stored ratings are left as they are.
    """
    records = projects_validate(data)
    methodology = methodology_current()
    criteria = {criterion.code: criterion for criterion in criteria_of(methodology)}
    result = ImportResult()
    try:
        _write(records, criteria, result, publish=publish, user=user)
    except DjangoValidationError as exc:  # a model check the file schema did not anticipate
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        raise InterchangeError(
            [
                f"{field}: {message}" if field else message
                for field, messages in fields.items()
                for message in messages
            ]
        ) from None
    return result


def _write(records: list[dict], criteria: dict, result: ImportResult, *, publish: bool, user) -> None:
    with rescoring_deferred():
        operators = {}
        for record in records:
            operators[record["operator"]["name"]] = operator_upsert(**record["operator"])
        for record in records:
            project, outcome = project_upsert(record=record, operator=operators[record["operator"]["name"]])
            if "assessments" in record:
                changed = assessments_replace(
                    project=project, items=record["assessments"], criteria=criteria, user=user
                )
                if changed and outcome == "unchanged":
                    outcome = "updated"
            getattr(result, outcome).append(project.slug)
            if publish and project.state != PublicationState.PUBLISHED:
                now = timezone.now()
                Project.objects.filter(pk=project.pk).update(
                    state=PublicationState.PUBLISHED, published_at=now, updated_at=now
                )
                result.published.append(project.slug)
            project_rescore(project_id=project.pk)
