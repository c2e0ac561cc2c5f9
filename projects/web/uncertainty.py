"""The project page's "How sure is this grade?" block: the stored uncertainty figures (method §8)
and grade changes (§10) of the project's current publication, laid out for the page. Nothing is
computed here but positions and percentages: the figures come from the last run
(projects.selectors.uncertainty), read with the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from projects.selectors.uncertainty import grade_changes_document, uncertainty_document

from .method_page import grade_bands
from .method_texts import MethodTexts

CHART_LEFT = 12
CHART_WIDTH = 336
GRADE_ORDER = "ABCDE"


def percent(share: float) -> str:
    """A share of scenarios as a whole percentage; "<1" for a share that is not none but rounds
    to none (a 0% beside a grade that happened would read as impossible)."""
    value = int((Decimal(str(share)) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    return "<1" if value == 0 and share > 0 else str(value)


def _x(value: float) -> float:
    return round(CHART_LEFT + CHART_WIDTH * min(max(value, 0.0), 100.0) / 100, 1)


@dataclass(frozen=True)
class GradeShare:
    grade: str
    share: float
    official: bool
    start: float  # where its segment of the share bar starts, in percent of the bar

    @property
    def percent(self) -> str:
        return percent(self.share)

    # The share bar is 300 units wide (an SVG: the CSP allows no inline style).
    @property
    def x(self) -> float:
        return round(self.start * 3, 2)

    @property
    def bar_width(self) -> float:
        return round(self.share * 300, 2)

    @property
    def label_x(self) -> float:
        return round(self.x + self.bar_width / 2, 2)

    @property
    def labelled(self) -> bool:
        """Wide enough for its letter inside the bar."""
        return self.share >= 0.08


@dataclass(frozen=True)
class GradeChangeLine:
    code: str
    name: str
    level_from: int
    level_to: int
    net: float
    grade: str
    raises: bool  # a better grade than the official one


@dataclass(frozen=True)
class GradeBandArea:
    grade: str
    x: float
    width: float
    label_x: float


@dataclass(frozen=True)
class IntervalChart:
    """Net score on 0–100: the grade bands, the 90% interval, its median and the official net."""

    bands: tuple[GradeBandArea, ...]
    x_p5: float
    x_p95: float
    x_median: float
    x_official: float | None
    left: int = CHART_LEFT
    right: int = CHART_LEFT + CHART_WIDTH

    @property
    def ticks(self) -> list[dict]:
        return [{"label": tick, "x": _x(tick)} for tick in (0, 25, 50, 75, 100)]

    @property
    def marks(self) -> SafeString:
        """The chart's shapes, written here (numbers as they are, no template lookups): the
        grade bands, the interval with its ends, the median and the published net score."""
        parts = [
            f'<rect x="{b.x}" y="8" width="{b.width}" height="30" class="band band-{b.grade.lower()}"/>'
            f'<text x="{b.label_x}" y="20" class="band-label" text-anchor="middle">{escape(b.grade)}</text>'
            for b in self.bands
        ]
        low, high, median = self.x_p5, self.x_p95, self.x_median
        parts.append(
            f'<line x1="{low}" x2="{high}" y1="30" y2="30" class="interval"/>'
            f'<line x1="{low}" x2="{low}" y1="24" y2="36" class="interval"/>'
            f'<line x1="{high}" x2="{high}" y1="24" y2="36" class="interval"/>'
            f'<line x1="{median}" x2="{median}" y1="22" y2="38" class="median"/>'
        )
        if self.x_official is not None:
            parts.append(f'<circle cx="{self.x_official}" cy="30" r="4.5" class="official"/>')
        parts += [
            f'<text x="{tick["x"]}" y="54" class="tick" text-anchor="middle">{tick["label"]}</text>'
            for tick in self.ticks
        ]
        return mark_safe("".join(parts))  # noqa: S308 (numbers, and grade names escaped)


@dataclass(frozen=True)
class UncertaintyView:
    computed_at: datetime
    scenarios: int
    seed: int
    official_grade: str
    official_net: float | None
    net_p5: float
    net_median: float
    net_p95: float
    shares: tuple[GradeShare, ...]  # A to E, those with scenarios only
    stable: bool
    rank: int | None  # its place by published net score among the run's projects
    rank_p5: int
    rank_median: int
    rank_p95: int
    ranked: int  # projects in the run
    top10: float
    changes: tuple[GradeChangeLine, ...]
    chart: IntervalChart

    @property
    def share_bar(self) -> SafeString:
        """The grade-share bar's shapes (an SVG 300 units wide: the CSP allows no inline style)."""
        parts = []
        for share in self.shares:
            official = " share-official" if share.official else ""
            parts.append(
                f'<rect x="{share.x}" y="0" width="{share.bar_width}" height="20" '
                f'class="share grade-{share.grade.lower()}{official}"/>'
            )
            if share.labelled:
                parts.append(
                    f'<text x="{share.label_x}" y="14.5" text-anchor="middle" class="share-label">'
                    f"{escape(share.grade)}</text>"
                )
        return mark_safe("".join(parts))  # noqa: S308 (numbers, and grade names escaped)

    @property
    def official_share(self) -> str:
        return next((share.percent for share in self.shares if share.official), "0")

    @property
    def shares_by_size(self) -> list[GradeShare]:
        """For the sentence: the largest share first ("C in 72% of scenarios, D in 25%, …")."""
        return sorted(self.shares, key=lambda share: (-share.share, share.grade))

    @property
    def top10_percent(self) -> str:
        return percent(self.top10)

    @property
    def rank_is_certain(self) -> bool:
        return self.rank_p5 == self.rank_p95


def interval_chart(texts: MethodTexts, figures: dict, official_net: float | None) -> IntervalChart:
    bands = []
    for band in grade_bands(texts):
        lower = 0.0 if band.lower is None else band.lower
        upper = 100.0 if band.upper is None else band.upper
        x, end = _x(lower), _x(upper)
        bands.append(GradeBandArea(band.name, x, round(end - x, 1), round((x + end) / 2, 1)))
    net = figures["net"]
    return IntervalChart(
        bands=tuple(bands),
        x_p5=_x(net["p5"]),
        x_p95=_x(net["p95"]),
        x_median=_x(net["median"]),
        x_official=None if official_net is None else _x(official_net),
    )


def uncertainty_view(
    stored: dict | None,
    *,
    card,
    texts: MethodTexts,
    criterion_names: dict[str, str],
) -> UncertaintyView | None:
    """The block's figures, or None when the project has none (not rated, or published again
    since the last run)."""
    figures = uncertainty_document(stored)
    if figures is None or not card.grade:
        return None
    shares, start = [], 0.0
    for grade in GRADE_ORDER:
        share = figures["grades"].get(grade, 0.0)
        if share > 0:
            shares.append(GradeShare(grade, share, grade == card.grade, round(start * 100, 2)))
            start += share
    changes = tuple(
        GradeChangeLine(
            code=change["criterion"],
            name=criterion_names.get(change["criterion"], ""),
            level_from=change["from"],
            level_to=change["to"],
            net=change["net"],
            grade=change["grade"],
            raises=change["grade"] < card.grade,
        )
        for change in grade_changes_document(stored) or ()
    )
    return UncertaintyView(
        computed_at=figures["computed_at"],
        scenarios=figures["scenarios"],
        seed=figures["seed"],
        official_grade=card.grade,
        official_net=card.value,
        net_p5=figures["net"]["p5"],
        net_median=figures["net"]["median"],
        net_p95=figures["net"]["p95"],
        shares=tuple(shares),
        stable=figures["stable"],
        rank=figures["rank"]["published"],
        rank_p5=figures["rank"]["p5"],
        rank_median=figures["rank"]["median"],
        rank_p95=figures["rank"]["p95"],
        ranked=figures["rank"]["of"],
        top10=figures["top10"],
        changes=changes,
        chart=interval_chart(texts, figures, card.value),
    )
