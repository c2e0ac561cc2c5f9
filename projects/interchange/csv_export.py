"""Score cards as CSV, one row a project, streamed: the API's public export (published facts and
cards) and the admin's export of a selection (draft facts and working cards) are this one writer.

Text cells go through FormulaSafeWriter, so a spreadsheet shows them instead of running them.
"""

import csv
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import QuerySet

from projects.models import Operator
from projects.selectors.uncertainty import GRADE_NAMES, uncertainty_document, uncertainty_expression

from .exporter import FormulaSafeWriter

COLUMNS = [
    "slug",
    "name",
    "operator",
    "operator_country",
    "target_body",
    "phase",
    "launch_year",
    "origin",
    "methodology",
    "status",
    "grade",
    "net_score",
    "net_low",
    "net_high",
    "confidence",
    "sdg7",
    "sdg9",
    "sdg12",
    "debris",
    "debris_level",
    "debris_severe",
    "equity",
    "equity_level",
    "equity_severe",
    "updated_at",
]
CARD_COLUMNS = COLUMNS[COLUMNS.index("status") : COLUMNS.index("updated_at")]
# The last columns: the uncertainty figures of the last run (method §8), which are of the
# published ratings (in the working export too), empty where the API's ``uncertainty`` is null.
# The grade changes (§10) are in the JSON export.
UNCERTAINTY_COLUMNS = [
    "net_p5",
    "net_median",
    "net_p95",
    *(f"grade_share_{name}" for name in GRADE_NAMES),
    "grade_stable",
    "rank_p5",
    "rank_median",
    "rank_p95",
    "ranked_projects",
    "top10_share",
    "uncertainty_computed_at",
]
CHUNK = 1000


def score_columns(*, working: bool = False) -> list[str]:
    """The header row. The working export adds each project's publication ``state`` after its
    facts: an analyst's selection mixes drafts and published projects, the public file has
    published ones only."""
    if not working:
        return [*COLUMNS, *UNCERTAINTY_COLUMNS]
    at = COLUMNS.index("origin") + 1
    return [*COLUMNS[:at], "state", *COLUMNS[at:], *UNCERTAINTY_COLUMNS]


class _Echo:
    def write(self, value):
        return value


def score_rows(projects: QuerySet, *, working: bool = False) -> Iterator[str]:
    """The CSV of ``projects``, ordered by slug, as lines of text: the header, then a row a
    project. By default what the public sees: the facts as published and the published card.
    ``working``: what the analysts see, the draft facts and the working card (and the state).

    The operators and cards are read with the projects, and a selection's pending operators in
    one query a chunk of rows: the queries do not grow with the projects."""
    card_of = "current_score" if working else "published_score"
    projects = projects.select_related("operator", f"{card_of}__methodology").order_by("slug")
    projects = projects.annotate(uncertainty_stored=uncertainty_expression())
    writer = FormulaSafeWriter(csv.writer(_Echo()))
    yield writer.writerow(score_columns(working=working))
    for chunk in _chunks(projects.iterator(chunk_size=CHUNK)):
        operators = _pending_operators(chunk) if working else {}
        for project in chunk:
            if working:
                project.apply_pending()
            operator = operators.get(project.operator_id) or project.operator
            card = getattr(project, card_of)
            figures = (
                [""] * (len(CARD_COLUMNS) + 1)
                if card is None
                else [card.methodology.version, *[getattr(card, name) for name in CARD_COLUMNS]]
            )
            yield writer.writerow(
                [
                    project.slug,
                    project.name,
                    operator.name,
                    operator.country,
                    project.target_body,
                    project.phase,
                    "" if project.launch_year is None else project.launch_year,
                    project.origin,
                    *([project.state] if working else []),
                    *[_cell(value) for value in figures],
                    _utc_text(project.updated_at),
                    *_uncertainty_cells(project.uncertainty_stored),
                ]
            )


def _uncertainty_cells(stored: dict | None) -> list:
    figures = uncertainty_document(stored)
    if figures is None:
        return [""] * len(UNCERTAINTY_COLUMNS)
    return [
        *(figures["net"][key] for key in ("p5", "median", "p95")),
        *(figures["grades"][name] for name in GRADE_NAMES),
        _cell(figures["stable"]),
        *(figures["rank"][key] for key in ("p5", "median", "p95", "of")),
        figures["top10"],
        _utc_text(figures["computed_at"]),
    ]


def _cell(value) -> object:
    """A figure as the JSON writes it: true/false for flags, empty for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _utc_text(moment: datetime) -> str:
    """A date-time as the API's JSON writes it: ISO 8601 in UTC, with Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _chunks(projects) -> Iterator[list]:
    chunk = []
    for project in projects:
        chunk.append(project)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _pending_operators(projects: list) -> dict:
    """The operators the projects' draft facts name, by key (before apply_pending)."""
    pending = {p.pending_facts["operator"] for p in projects if "operator" in (p.pending_facts or {})}
    return {operator.pk: operator for operator in Operator.objects.filter(pk__in=pending)}
