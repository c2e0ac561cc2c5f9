"""The home page's overview: the first projects of the list as a colour matrix (projects ×
dimensions, in the manner of the SDSN's SDG dashboards) and as an impact-versus-risk scatter.

Both are drawn on the server as SVG from the stored figures, and each has a table alternative
(docs/pages.md, "Overview"). Colour is never the only cue: every matrix cell carries its figure or
level as text, SDG cells a bar as long as the score, risk cells a hatching as dense as the level;
every point of the scatter its number in the list, and its name and figures in its title.

The geometry is computed here; the markup is ``web/includes/overview.html``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from projects.models import Project

from .rankings import ProjectRow

OVERVIEW_SIZE = 20  # projects in the overview: the first of the list the page shows

# UN SDG palette (https://www.un.org/sustainabledevelopment/news/communications-material/): dark
# text on each of them passes WCAG AA (4.5:1 and more), so they are used as they are.
GOAL_COLOURS = {"sdg7": "#FCC30B", "sdg9": "#FD6925", "sdg12": "#BF8B2E"}
IMPACT_COLUMNS = (("sdg7", "SDG 7"), ("sdg9", "SDG 9"), ("sdg12", "SDG 12"))
RISK_COLUMNS = (("debris", _("Debris")), ("equity", _("Equity")))

# Matrix geometry (SVG user units: the drawing scales to its box).
NAME_WIDTH = 170
CELL_WIDTH = 62
CELL_HEIGHT = 24
HEADER_HEIGHT = 30
BAR_HEIGHT = 3
NAME_UNITS = 23  # a name longer than this (a CJK character counts two) is cut with "…"

# Scatter geometry.
PLOT_LEFT, PLOT_RIGHT = 56, 500
PLOT_TOP, PLOT_BOTTOM = 30, 300
SCATTER_WIDTH, SCATTER_HEIGHT = 520, 340
POINT_RADIUS = 10


def shade(value: float) -> float:
    """The fill opacity of an SDG cell: four steps by quarter of the scale (darker = higher)."""
    return (min(int(value // 25), 3) + 1) / 4


def cut_name(name: str, units: int = NAME_UNITS) -> str:
    """``name`` within ``units`` (a wide, CJK character counts two), cut with "…"."""
    used = 0
    for index, character in enumerate(name):
        used += 2 if ord(character) >= 0x2E80 else 1
        if used > units:
            return name[: max(index - 1, 1)] + "…"
    return name


@dataclass(frozen=True)
class MatrixCell:
    key: str
    x: int
    kind: str  # "score", "risk", "na" (SDG dimension that does not apply) or "none" (no figure)
    value: float | None = None
    opacity: float = 0.0
    bar: float = 0.0  # width of the score's bar
    level: str = ""  # a risk's level key ("low" … "high")
    level_name: str = ""
    colour: str = ""

    @property
    def text_x(self) -> float:
        return self.x + CELL_WIDTH / 2


@dataclass(frozen=True)
class MatrixRow:
    project: Project
    number: int
    y: int
    name: str
    short_name: str
    url: str
    grade: str
    net: float | None
    impact: float | None
    discount: float | None  # per cent of the impact score the two risks take off (None: no net)
    cells: tuple[MatrixCell, ...]

    @property
    def text_y(self) -> float:
        return self.y + CELL_HEIGHT / 2


@dataclass(frozen=True)
class Point:
    number: int
    name: str
    url: str
    grade: str
    impact: float
    discount: float  # per cent of the impact score the two risks take off
    net: float
    debris: float | None
    equity: float | None
    x: float
    y: float


@dataclass(frozen=True)
class Tick:
    value: int
    at: float


@dataclass(frozen=True)
class Overview:
    rows: tuple[MatrixRow, ...]
    points: tuple[Point, ...]
    columns: tuple[dict, ...]
    width: int
    height: int
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    y_top: int
    total: int  # projects in the list the overview is the start of

    @property
    def scatter_width(self) -> int:
        return SCATTER_WIDTH

    @property
    def scatter_height(self) -> int:
        return SCATTER_HEIGHT

    @property
    def plot(self) -> dict:
        return {"left": PLOT_LEFT, "right": PLOT_RIGHT, "top": PLOT_TOP, "bottom": PLOT_BOTTOM}

    @property
    def radius(self) -> int:
        return POINT_RADIUS


def _impact_cell(key: str, x: int, value: float | None, applicable: bool) -> MatrixCell:
    if value is None:
        return MatrixCell(key, x, "none" if applicable else "na", colour=GOAL_COLOURS[key])
    return MatrixCell(
        key,
        x,
        "score",
        value=value,
        opacity=shade(value),
        bar=round((CELL_WIDTH - 12) * max(0.0, min(value, 100.0)) / 100, 1),
        colour=GOAL_COLOURS[key],
    )


def _risk_cell(key: str, x: int, value: float | None, level: str, level_name: str) -> MatrixCell:
    if not level:
        return MatrixCell(key, x, "none")
    return MatrixCell(key, x, "risk", value=value, level=level, level_name=level_name)


def overview(rows: list[ProjectRow], *, link: str, total: int) -> Overview | None:
    """The overview of the first ``OVERVIEW_SIZE`` of ``rows`` (as the list shows them), or None
    when there is nothing to show. ``link`` is the project pages' path up to the slug. One query
    reads what the rows do not carry: the impact score, the risk values, which SDG dimensions
    apply."""
    rows = rows[:OVERVIEW_SIZE]
    if not rows:
        return None
    extra = {
        pk: (impact, debris, equity, dimensions)
        for pk, impact, debris, equity, dimensions in Project.objects.filter(
            pk__in=[row.project.pk for row in rows]
        ).values_list(
            "pk",
            "published_score__card__impact__value",
            "published_score__debris",
            "published_score__equity",
            "published_score__card__dimensions",
        )
    }
    risks = dict(RISK_COLUMNS)
    columns = tuple(
        {
            "key": key,
            "label": str(label),
            "x": NAME_WIDTH + index * CELL_WIDTH,
            "risk": key in risks,
            "colour": GOAL_COLOURS.get(key, ""),
        }
        for index, (key, label) in enumerate((*IMPACT_COLUMNS, *RISK_COLUMNS))
    )
    matrix, points = [], []
    for number, row in enumerate(rows, start=1):
        project, score = row.project, row.score
        impact, debris, equity, dimensions = extra.get(project.pk, (None, None, None, None))
        dimensions = dimensions or {}
        cells = []
        for column in columns[:3]:
            value = getattr(score, column["key"]) if score else None
            applicable = (dimensions.get(column["key"]) or {}).get("applicable", True)
            cells.append(_impact_cell(column["key"], column["x"], value, applicable))
        levels = (score.debris_level, score.equity_level) if score else ("", "")
        names = (row.debris_level_name, row.equity_level_name)
        for column, value, level, name in zip(columns[3:], (debris, equity), levels, names, strict=True):
            cells.append(_risk_cell(column["key"], column["x"], value, level, name))
        url = f"{link}{project.slug}/"
        net = score.net_score if score else None
        discount = None
        if net is not None and impact is not None:
            discount = 0.0 if not impact else max(0.0, 100 * (1 - net / impact))
            points.append((number, project.name, url, score.grade, impact, discount, net, debris, equity))
        matrix.append(
            MatrixRow(
                project=project,
                number=number,
                y=HEADER_HEIGHT + (number - 1) * CELL_HEIGHT,
                name=project.name,
                short_name=cut_name(project.name),
                url=url,
                grade=score.grade if score else "",
                net=net,
                impact=impact,
                discount=None if discount is None else round(discount, 1),
                cells=tuple(cells),
            )
        )

    y_top = max(20, math.ceil(max((point[5] for point in points), default=0) / 10) * 10)

    def x_of(impact: float) -> float:
        return round(PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * impact / 100, 1)

    def y_of(discount: float) -> float:
        return round(PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * discount / y_top, 1)

    return Overview(
        rows=tuple(matrix),
        points=tuple(
            Point(*point[:5], round(point[5], 1), *point[6:], x_of(point[4]), y_of(point[5]))
            for point in points
        ),
        columns=columns,
        width=NAME_WIDTH + len(columns) * CELL_WIDTH + 2,
        height=HEADER_HEIGHT + len(matrix) * CELL_HEIGHT + 2,
        x_ticks=tuple(Tick(value, x_of(value)) for value in range(0, 101, 20)),
        y_ticks=tuple(Tick(value, y_of(value)) for value in range(0, y_top + 1, 10 if y_top <= 50 else 20)),
        y_top=y_top,
        total=total,
    )
