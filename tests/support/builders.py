"""Builders of test data in the interchange format (docs/interchange.md): files, project records
and ratings, and the one builder of stored projects (``make_project``), which imports them the
way analysts load projects."""

from projects.interchange.importer import projects_import
from projects.models import Project
from tests.support.actors import reviewer_user
from tests.support.criteria import ALL_CODES

EVIDENCE_SOURCE = "https://example.org/evidence"


def interchange(*projects, **envelope) -> dict:
    return {"format": "sdgscore.projects/1", "projects": list(projects), **envelope}


def project_record(slug="test-project", *, assessments=None, **fields) -> dict:
    record = {
        "slug": slug,
        "name": fields.pop("name", slug.replace("-", " ").title()),
        "operator": fields.pop("operator", {"name": "Test Operator", "country": "JP", "kind": "company"}),
        "target_body": fields.pop("target_body", "moon"),
        "resources": fields.pop("resources", ["water_ice"]),
        "phase": fields.pop("phase", "demonstration"),
        "launch_year": fields.pop("launch_year", 2027),
        "summary": fields.pop("summary", "A test project."),
        "links": fields.pop("links", []),
        "assessments": assessments if assessments is not None else [],
        **fields,
    }
    return record


def rated(code, rating, grade="B", evidence="Illustrative evidence.", source_url=None) -> dict:
    """A rating in the interchange format; grades A and B cite a source (as the rules ask) unless
    ``source_url`` says otherwise ("" for none)."""
    item = {"criterion": code, "rating": rating, "evidence": evidence, "evidence_grade": grade}
    if source_url is None:
        source_url = EVIDENCE_SOURCE if grade in ("A", "B") else ""
    if source_url:
        item["source_url"] = source_url
    return item


def every_rating(
    level=2, grade="B", *, missing=(), evidence="Illustrative evidence.", **overrides
) -> list[dict]:
    """Every criterion of method 1.0 rated ``level`` with evidence ``grade``, in table order.

    ``overrides`` maps a code (S7_1 or, through a dict, "S7.1") to a level, a (level, grade) pair,
    None (not applicable) or "missing" (left out, like the codes in ``missing``); ``evidence`` may
    name the criterion ("Evidence for {code}.")."""
    wanted = {code.replace("_", "."): value for code, value in overrides.items()}
    ratings = []
    for code in ALL_CODES:
        value = wanted.get(code, level)
        if code in missing or value == "missing":
            continue
        if value is None:
            ratings.append({"criterion": code, "not_applicable": True, "evidence": "Cannot apply."})
            continue
        level_and_grade = value if isinstance(value, tuple) else (value, grade)
        ratings.append(rated(code, *level_and_grade, evidence=evidence.format(code=code)))
    return ratings


def all_rated(level=2, grade="B", **overrides) -> list[dict]:
    """Every criterion rated ``level``, each with evidence that names it."""
    return every_rating(level, grade, evidence="Evidence for {code}.", **overrides)


def make_project(
    slug="alpha", *, assessments=None, publish=True, note="Test publication.", **fields
) -> Project:
    """A project imported the way analysts load them, its card computed: published by a second
    person (``reviewer_user``) with ``note``, or left a draft with ``publish=False``. Without
    ``assessments`` every criterion is rated 2 (``all_rated``); ``fields`` are its record's."""
    record = project_record(slug, assessments=all_rated() if assessments is None else assessments, **fields)
    projects_import(
        interchange(record),
        publish=publish,
        reviewer=reviewer_user() if publish else None,
        note=note,
    )
    return Project.objects.select_related("current_score", "published_score").get(slug=slug)


def imported(slug="alpha", *, assessments=(), **fields) -> Project:
    """A draft as an analyst's import leaves it: no rating unless ``assessments`` are given."""
    return make_project(slug, assessments=list(assessments), publish=False, **fields)
