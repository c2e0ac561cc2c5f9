"""Exporting interchange files, streamed project by project so memory stays flat.

The output is deterministic (projects by slug, ratings in method order, fixed key order), so
export → import into an empty database → export gives identical bytes.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC

from projects.models import Operator, Project
from projects.selectors import methodology_current, project_list_for_export
from projects.selectors.uncertainty import grade_changes_document, uncertainty_document
from projects.services.publication import assessment_record
from projects.vocabularies import PublicationState

from . import FORMAT

CHUNK = 500


def project_record(project: Project, *, published: bool = False, history: bool = False) -> dict:
    """The project in the interchange form: its working ratings and card, or with ``published``
    the ratings and card of its last publication; ``history`` adds its score cards and
    publications (a backup that ``restore_backup`` restores). The working record carries the
    draft facts; the published one (and a backup's history) what the public sees."""
    if not published and project.pending_facts:
        project = Project.objects.select_related("operator").get(pk=project.pk).apply_pending()
        if "operator" in project.pending_facts:
            project.operator = Operator.objects.get(pk=project.operator_id)
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
    }
    if published:
        publication = project.publication
        ratings = publication.frozen_ratings if publication else []
        record["assessments"] = [{k: v for k, v in item.items() if k != "updated_at"} for item in ratings]
        record["score"] = project.published_score.card if project.published_score else None
        # Read with the project (project_list_for_export): the last run's figures, if any.
        stored = getattr(project, "uncertainty_stored", None)
        uncertainty = uncertainty_document(stored)
        if uncertainty is not None:
            uncertainty["computed_at"] = _moment(uncertainty["computed_at"])
        record["uncertainty"] = uncertainty
        record["grade_changes"] = grade_changes_document(stored)
        return record
    record["assessments"] = [assessment_record(a) for a in project.assessments.all()]
    record["score"] = project.current_score.card if project.current_score else None
    if history:
        record["history"] = history_record(project)
    return record


def history_record(project: Project) -> dict:
    """Every score card (oldest first) and publication of the project; a publication names its
    card by position in ``score_cards``."""
    cards = list(project.score_history.select_related("methodology").order_by("computed_at", "id"))
    position = {card.pk: index for index, card in enumerate(cards)}
    publications = project.publications.select_related("methodology", "published_by", "ratings_of").order_by(
        "number"
    )
    record = {
        "published": project.state == PublicationState.PUBLISHED,
        "score_cards": [
            {
                "computed_at": _moment(card.computed_at),
                "methodology": card.methodology.version,
                "card": card.card,
            }
            for card in cards
        ],
        "publications": [
            {
                "number": publication.number,
                "published_at": _moment(publication.published_at),
                "kind": publication.kind,
                "published_by": publication.published_by_name
                or (publication.published_by.get_username() if publication.published_by else None),
                "note": publication.note,
                "methodology": publication.methodology.version,
                "score_card": position[publication.score_id],
                "ratings": publication.frozen_ratings,
                "changes": publication.changes,
            }
            for publication in publications
        ],
    }
    if project.pending_facts:  # what the public sees of the facts that wait for a publication
        record["published_facts"] = published_facts(project)
    return record


def published_facts(project: Project) -> dict:
    """The published values of the project's pending facts (an operator by its description)."""
    columns = [("operator_id" if key == "operator" else key) for key in project.pending_facts]
    stored = Project.objects.filter(pk=project.pk).values(*columns).get()
    facts = {column.removesuffix("_id"): value for column, value in stored.items()}
    if "operator" in facts:
        operator = Operator.objects.get(pk=facts["operator"])
        facts["operator"] = {"name": operator.name, "country": operator.country, "kind": operator.kind}
    return facts


def _moment(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def projects_export(*, published_only: bool = False, history: bool = False, pks=None) -> Iterator[str]:
    """The interchange document, in pieces of text that concatenate to valid JSON.

    ``published_only``: what the public sees (published projects, their last publication);
    otherwise every project with its working ratings and card, and with ``history`` its score
    cards and publications too. ``pks``: only these projects (the admin's selection)."""
    methodology = methodology_current()
    projects = project_list_for_export(methodology=methodology, published_only=published_only)
    if pks is not None:
        projects = projects.filter(pk__in=list(pks))
    head = {"format": FORMAT, "methodology": methodology.version if methodology else None}
    yield "{\n" + "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in head.items())
    yield '  "projects": ['
    separator = "\n"
    for project in projects.iterator(chunk_size=CHUNK):
        record = project_record(project, published=published_only, history=history and not published_only)
        text = json.dumps(record, ensure_ascii=False, indent=2)
        yield separator + "\n".join("    " + line for line in text.splitlines())
        separator = ",\n"
    yield "\n  ]\n}\n"


# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value):
    """A value as a CSV cell that a spreadsheet shows instead of running: text starting with
    = + - @ tab or CR gets a leading ' (which spreadsheets hide). Numbers, and text that is just a
    number, stay as they are: a negative score must stay a number."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class FormulaSafeWriter:
    """A csv writer (``csv.writer(...)``) whose rows go through csv_cell, cell by cell."""

    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row):
        return self.writer.writerow([csv_cell(value) for value in row])
