"""A project's page in one language: its ratings by dimension, the score chart and its history."""

from __future__ import annotations

import re
from dataclasses import dataclass

from projects.changes import change_line
from projects.models import Assessment, Criterion, Publication, ScoreCard

from .cards import CardView, DimensionView
from .method_texts import MethodTexts

SEVERE_LEVEL = 4
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def text_language(text: str) -> str:
    """Ratings' justifications are written in one language only; mark which, for screen readers."""
    return "ja" if _JAPANESE.search(text or "") else "en"


def justification_for(assessment: Assessment, language: str) -> dict:
    """The justification a page in ``language`` shows: the Japanese one on a Japanese page where
    it was written, else the English (marked as such, and noted "English only" there)."""
    if language == "ja" and assessment.justification_ja:
        text = assessment.justification_ja
    else:
        text = assessment.justification
    return {"justification": text, "justification_language": text_language(text)}


@dataclass(frozen=True)
class CriterionRow:
    code: str
    name: str
    description: str
    weight: int
    references: str
    level_texts: tuple[str, ...]
    status: str  # "rated", "not_applicable" or "missing"
    level: int | None = None
    level_text: str = ""
    justification: str = ""
    justification_language: str = "en"
    evidence_grade: str = ""
    evidence_grade_name: str = ""
    source_url: str = ""
    is_risk: bool = False

    @property
    def is_severe(self) -> bool:
        return self.is_risk and self.level == SEVERE_LEVEL


def criterion_row(criterion: Criterion, assessment: Assessment | None, texts: MethodTexts) -> CriterionRow:
    language = texts.language
    common = {
        "code": criterion.code,
        "name": criterion.name(language),
        "description": criterion.description(language),
        "weight": criterion.weight,
        "references": criterion.references,
        "level_texts": tuple(criterion.level_texts(language)),
        "is_risk": criterion.is_risk,
    }
    if assessment is None:
        return CriterionRow(status="missing", **common)
    if assessment.not_applicable:
        return CriterionRow(
            status="not_applicable",
            **justification_for(assessment, language),
            **common,
        )
    return CriterionRow(
        status="rated",
        level=assessment.level,
        level_text=criterion.level_text(assessment.level, language),
        **justification_for(assessment, language),
        evidence_grade=assessment.evidence_grade,
        evidence_grade_name=texts.evidence_grade_name(assessment.evidence_grade),
        source_url=assessment.source_url,
        **common,
    )


@dataclass(frozen=True)
class DimensionSection:
    dimension: DimensionView
    criteria: tuple[CriterionRow, ...]

    @property
    def severe_criteria(self) -> list[CriterionRow]:
        return [row for row in self.criteria if row.is_severe]

    def _count(self, status: str) -> int:
        return sum(row.status == status for row in self.criteria)

    @property
    def rated_count(self) -> int:
        return self._count("rated")

    @property
    def not_applicable_count(self) -> int:
        return self._count("not_applicable")

    @property
    def missing_count(self) -> int:
        return self._count("missing")

    @property
    def levels(self) -> str:
        """The criteria's levels in method order, for the dimension's one-line summary: "2 3 – 1"
        (– not applicable, ? not assessed)."""
        marks = {"not_applicable": "–", "missing": "?"}
        return " ".join(
            str(row.level) if row.status == "rated" else marks[row.status] for row in self.criteria
        )


def dimension_sections(card: CardView, ratings, texts: MethodTexts) -> list[DimensionSection]:
    rows_by_dimension: dict[str, list[CriterionRow]] = {}
    for criterion, assessment in ratings:
        rows_by_dimension.setdefault(criterion.dimension, []).append(
            criterion_row(criterion, assessment, texts)
        )
    return [
        DimensionSection(dimension, tuple(rows_by_dimension.get(dimension.key, ())))
        for dimension in card.dimensions
    ]


# --- the SDG chart: inline SVG, drawn from numbers computed here -----------------------------

CHART_LEFT = 72
CHART_WIDTH = 260
CHART_ROW = 34
CHART_TOP = 24


@dataclass(frozen=True)
class ChartBar:
    label: str
    name: str
    y: int
    value: float | None
    low: float | None
    high: float | None
    applicable: bool

    def _x(self, figure: float) -> float:
        return round(CHART_LEFT + CHART_WIDTH * figure / 100, 1)

    @property
    def bar_width(self) -> float:
        return round(CHART_WIDTH * (self.value or 0) / 100, 1)

    @property
    def x_low(self) -> float:
        return self._x(self.low or 0)

    @property
    def x_high(self) -> float:
        return self._x(self.high or 0)

    @property
    def has_range(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def bar_y(self) -> int:
        return self.y - 9

    @property
    def whisker_y(self) -> int:
        return self.y - 3

    @property
    def whisker_top(self) -> int:
        return self.y - 12

    @property
    def whisker_bottom(self) -> int:
        return self.y + 4


@dataclass(frozen=True)
class Chart:
    bars: tuple[ChartBar, ...]
    height: int
    left: int = CHART_LEFT
    right: int = CHART_LEFT + CHART_WIDTH
    value_x: int = CHART_LEFT + CHART_WIDTH + 8
    track_width: int = CHART_WIDTH

    @property
    def ticks(self) -> list[dict]:
        return [{"label": tick, "x": CHART_LEFT + CHART_WIDTH * tick // 100} for tick in (0, 25, 50, 75, 100)]

    @property
    def axis_y(self) -> int:
        return self.height - 6

    @property
    def grid_bottom(self) -> int:
        return self.height - 18


def sdg_chart(card: CardView) -> Chart:
    bars = tuple(
        ChartBar(
            label=dimension.short_name,
            name=dimension.name,
            y=CHART_TOP + index * CHART_ROW,
            value=dimension.value,
            low=dimension.low,
            high=dimension.high,
            applicable=dimension.applicable,
        )
        for index, dimension in enumerate(card.impact_dimensions)
    )
    return Chart(bars=bars, height=CHART_TOP + len(bars) * CHART_ROW + 6)


# --- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    publication: Publication

    @property
    def score(self) -> ScoreCard:
        return self.publication.score

    @property
    def change_line(self) -> str:
        """What moved the score: "S9.1 2 → 3; net 41.0 → 44.6; grade C → C"."""
        return change_line(self.publication.changes)


def history_entries(publications: list[Publication]) -> list[HistoryEntry]:
    """Newest first: each publication with its card, its note and what moved since the last."""
    return [HistoryEntry(publication) for publication in publications]
