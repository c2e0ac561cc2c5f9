"""Exporting interchange files, streamed project by project so memory stays flat.

The output is deterministic (projects by slug, ratings in method order, fixed key order), so
export → import into an empty database → export gives identical bytes.
"""

import json
from collections.abc import Iterator

from projects.models import Project
from projects.selectors import methodology_current, project_list_for_export

from . import FORMAT

CHUNK = 500


def project_record(project: Project) -> dict:
    operator = project.operator
    record = {
        "slug": project.slug,
        "name": project.name,
        "operator": {"name": operator.name, "country": operator.country, "kind": operator.kind},
        "target_body": project.target_body,
        "resources": list(project.resources),
        "phase": project.phase,
        "launch_year": project.launch_year,
        "origin": project.origin,
        "summary": project.summary,
        "summary_ja": project.summary_ja,
        "links": list(project.links),
        "assessments": [_assessment_record(a) for a in project.assessments.all()],
    }
    record["score"] = project.current_score.card if project.current_score else None
    return record


def _assessment_record(assessment) -> dict:
    item: dict = {"criterion": assessment.criterion.code}
    if assessment.not_applicable:
        item["not_applicable"] = True
    else:
        item["rating"] = assessment.level
    if assessment.justification:
        item["evidence"] = assessment.justification
    if assessment.evidence_grade:
        item["evidence_grade"] = assessment.evidence_grade
    if assessment.source_url:
        item["source_url"] = assessment.source_url
    return item


def projects_export(*, published_only: bool = False) -> Iterator[str]:
    """The interchange document, in pieces of text that concatenate to valid JSON."""
    methodology = methodology_current()
    projects = project_list_for_export(methodology=methodology, published_only=published_only)
    head = {"format": FORMAT, "methodology": methodology.version if methodology else None}
    yield "{\n" + "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in head.items())
    yield '  "projects": ['
    separator = "\n"
    for project in projects.iterator(chunk_size=CHUNK):
        text = json.dumps(project_record(project), ensure_ascii=False, indent=2)
        yield separator + "\n".join("    " + line for line in text.splitlines())
        separator = ",\n"
    yield "\n  ]\n}\n"
