"""The rankings table as a page shows it: rows, sortable column headers and filter links."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from projects.models import Project, ScoreCard
from projects.selectors.uncertainty import rank_intervals
from projects.vocabularies import Grade, Phase, RiskLevel, TargetBody

from .filters import DEFAULT_SORT, SORT_COLUMNS
from .method_texts import MethodTexts

FACET_CHOICES = {
    "body": (_("Body"), TargetBody.choices),
    "phase": (_("Phase"), Phase.choices),
    "grade": (_("Grade"), Grade.choices),
    "debris": (_("Debris risk"), RiskLevel.choices),
    "equity": (_("Equity risk"), RiskLevel.choices),
}


@dataclass(frozen=True)
class ProjectRow:
    """One published project and the figures of its current score card."""

    project: Project
    score: ScoreCard | None
    debris_level_name: str
    equity_level_name: str
    rank_interval: tuple[int, int, int] | None = None  # (p5, median, p95) over the scenarios

    @property
    def is_rated(self) -> bool:
        return self.score is not None and self.score.status == "rated"


def ranking_rows(projects, texts: MethodTexts | None) -> list[ProjectRow]:
    """The rows of a page of the ranking, with each rated project's rank interval (one query)."""
    projects = list(projects)
    intervals = rank_intervals(project.publication_id for project in projects)

    def level_name(key: str) -> str:
        if not key:
            return ""
        return texts.risk_level_name(key) if texts else str(RiskLevel(key).label)

    return [
        ProjectRow(
            project=project,
            score=project.published_score,
            debris_level_name=level_name(
                project.published_score.debris_level if project.published_score else ""
            ),
            equity_level_name=level_name(
                project.published_score.equity_level if project.published_score else ""
            ),
            rank_interval=intervals.get(project.publication_id),
        )
        for project in projects
    ]


def _query(params: QueryDict) -> str:
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@dataclass(frozen=True)
class FacetOption:
    label: str
    value: str
    url: str
    active: bool
    count: int | None = None  # published projects with this value (None: not counted)


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    options: tuple[FacetOption, ...]

    @property
    def active_count(self) -> int:
        return sum(option.active for option in self.options)


def facets(params: QueryDict, counts: dict[str, int] | None = None) -> list[Facet]:
    """For each filter, a link per value that adds it to (or removes it from) the current query.
    With ``counts`` ("name:value" → published projects with the value), each link says how many,
    and a value no published project has is left out unless it is chosen."""
    result = []
    for name, (label, choices) in FACET_CHOICES.items():
        chosen = params.getlist(name)
        options = []
        for value, value_label in choices:
            count = None if counts is None else counts.get(f"{name}:{value}", 0)
            if count == 0 and value not in chosen:
                continue
            toggled = params.copy()
            values = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
            toggled.setlist(name, values)
            options.append(FacetOption(str(value_label), value, _query(toggled), value in chosen, count))
        result.append(Facet(name, str(label), tuple(options)))
    return result


@dataclass(frozen=True)
class ColumnHeader:
    key: str
    label: str
    url: str
    aria_sort: str | None  # "ascending" / "descending" on the column the table is sorted by


def column_headers(params: QueryDict, current_sort: str) -> dict[str, ColumnHeader]:
    """A link per column that sorts by it (or flips the order when it is already sorted by it)."""
    current_key = current_sort.lstrip("-")
    current_descending = current_sort.startswith("-")
    headers = {}
    for key, column in SORT_COLUMNS.items():
        if key == current_key:
            descending = not current_descending
            aria_sort = "descending" if current_descending else "ascending"
        else:
            descending = column.descending_first
            aria_sort = None
        sorted_params = params.copy()
        sorted_params["sort"] = f"-{key}" if descending else key
        headers[key] = ColumnHeader(key, str(column.label), _query(sorted_params), aria_sort)
    return headers


def current_sort(params: QueryDict) -> str:
    sort = params.get("sort") or DEFAULT_SORT
    return sort if sort.lstrip("-") in SORT_COLUMNS else DEFAULT_SORT
