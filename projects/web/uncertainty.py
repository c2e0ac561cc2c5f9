"""The project page's "How sure is this grade?" block: the stored uncertainty figures (method §8)
and grade changes (§10) of the project's current publication, laid out for the page. Nothing is
computed here but positions and percentages: the figures come from the last run
(projects.selectors.uncertainty), read with the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.timezone import template_localtime
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from projects.selectors.uncertainty import grade_changes_document, uncertainty_document
from projects.templatetags.web_cells import one_decimal

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


# --- The block's markup ----------------------------------------------------------------------
# Written here rather than by a template (a template of some 40 tags took 1.4 ms of every
# uncached project page): the same markup as web/includes/uncertainty.html wrote, escaped as
# it was, with the same msgids, so the Japanese catalogue serves both.


def _decimal(value) -> str:
    return "" if value is None else one_decimal(value)


def _sentences(u: UncertaintyView) -> dict[str, str]:
    """The block's sentences with their figures (escaped: the figures are numbers and grade names)."""
    grade, share = escape(u.official_grade), escape(u.official_share)
    if u.stable:
        stability = gettext("The grade stays %(grade)s in %(share)s%% of scenarios.") % {
            "grade": grade,
            "share": share,
        }
    else:
        stability = gettext(
            "The grade is %(grade)s in only %(share)s%% of scenarios (stable needs 90%%)."
        ) % {
            "grade": grade,
            "share": share,
        }
    shares = []
    for number, item in enumerate(u.shares_by_size):
        figures = {"grade": escape(item.grade), "share": escape(item.percent)}
        if number == 0:
            shares.append(gettext("%(grade)s in %(share)s%% of scenarios") % figures)
        else:
            shares.append(gettext(", %(grade)s in %(share)s%%") % figures)
    if u.rank_is_certain:
        rank = gettext("Ranked %(rank)s of %(count)s; %(place)s in at least 90%% of scenarios") % {
            "rank": u.rank,
            "count": u.ranked,
            "place": u.rank_p5,
        }
    else:
        rank = gettext("Ranked %(rank)s of %(count)s; %(low)s–%(high)s in 90%% of scenarios") % {
            "rank": u.rank,
            "count": u.ranked,
            "low": u.rank_p5,
            "high": u.rank_p95,
        }
    return {
        "stability": stability,
        "desc": gettext(
            "Published net score %(net)s; median over the scenarios %(median)s; in 90%% of scenarios "
            "between %(low)s and %(high)s."
        )
        % {
            "net": _decimal(u.official_net),
            "median": _decimal(u.net_median),
            "low": _decimal(u.net_p5),
            "high": _decimal(u.net_p95),
        },
        "shares": "".join(shares),
        "rank": rank,
        "top10": gettext("in the top 10 in %(share)s%% of scenarios") % {"share": escape(u.top10_percent)},
        "median": gettext("median %(median)s") % {"median": _decimal(u.net_median)},
        "from": gettext("From %(scenarios)s scenarios (seed %(seed)s)")
        % {"scenarios": u.scenarios, "seed": u.seed},
    }


def _change_item(change: GradeChangeLine) -> str:
    figures = {"grade": escape(change.grade), "net": _decimal(change.net)}
    if change.raises:
        effect = gettext("would raise it to %(grade)s (net %(net)s)") % figures
    else:
        effect = gettext("would lower it to %(grade)s (net %(net)s)") % figures
    return (
        f'<li><a href="#criterion-{escape(slugify(change.code))}">'
        f'<span lang="en">{escape(change.code)}</span> {escape(change.name)}</a>: '
        f"{change.level_from} → {change.level_to} {effect}</li>\n    "
    )


def _texts() -> dict[str, str]:
    """The block's fixed texts in the active language, escaped (each gettext call outside the
    f-strings, where makemessages sees it; "%%" in a msgid as the templates wrote it)."""
    texts = {
        "heading": _("How sure is this grade?"),
        "computing": _(
            "The uncertainty figures for this publication are being computed; "
            "they appear here when the run is done."
        ),
        "stable": _("Stable"),
        "borderline": _("Borderline"),
        "caption": _("Net score with its 90%% interval over the scenarios") % {},
        "title": _("Net score and its 90%% interval") % {},
        "official": _("published net score"),
        "interval": _("90%% of scenarios") % {},
        "median": _("median"),
        "net_interval": _("Net score, 90%% interval") % {},
        "grade_scenarios": _("Grade in the scenarios"),
        "rank": _("Rank"),
        "changes_heading": _("What would change the grade"),
        "changes_intro": _("Each change of a single rating by one level that would change the grade:"),
        "no_changes": _("No change of a single rating by one level would change the grade."),
        "table": _("These figures as a table"),
        "table_caption": _("Net score and rank over the scenarios"),
        "figure": _("Figure"),
        "published": _("Published"),
        "median_column": _("Median"),
        "p5": _("5th percentile"),
        "p95": _("95th percentile"),
        "net": _("Net score"),
        "shares_caption": _("Share of scenarios in each grade"),
        "grade": _("Grade"),
        "share": _("Share of scenarios"),
        "published_grade": _("published grade"),
        "computed": _("computed"),
        "how": _("How these figures are computed"),
    }
    return {name: escape(text) for name, text in texts.items()}


def uncertainty_block(u: UncertaintyView | None) -> SafeString:
    """The project page's "How sure is this grade?" section."""
    w = _texts()
    head = (
        '<section class="uncertainty" id="uncertainty" aria-labelledby="uncertainty-heading">\n'
        f'  <h2 id="uncertainty-heading">{w["heading"]}</h2>\n  '
    )
    if u is None:
        return mark_safe(f'{head}<p class="muted">{w["computing"]}</p>\n</section>')  # noqa: S308 (escaped)
    s = _sentences(u)
    kind = "stable" if u.stable else "borderline"
    if u.changes:
        items = "".join(_change_item(change) for change in u.changes)
        changes = (
            f"<p>{w['changes_intro']}</p>\n"
            f'  <ul class="grade-changes" aria-labelledby="grade-changes-heading">\n    {items}\n  </ul>\n  '
        )
    else:
        changes = f"<p>{w['no_changes']}</p>\n  "
    official = f" ({w['published_grade']})"
    shares = "".join(
        f'<tr><th scope="row">{escape(item.grade)}{official if item.official else ""}</th>'
        f'<td class="numeric">{escape(item.percent)}%</td></tr>'
        for item in u.shares
    )
    th = '<th scope="col" class="numeric">{}</th>'
    td = '<td class="numeric">{}</td>'
    columns = "".join(th.format(w[name]) for name in ("published", "median_column", "p5", "p95"))
    net_cells = "".join(td.format(_decimal(v)) for v in (u.official_net, u.net_median, u.net_p5, u.net_p95))
    rank = "—" if u.rank is None else u.rank
    rank_cells = "".join(td.format(v) for v in (rank, u.rank_median, u.rank_p5, u.rank_p95))
    key = '<span class="key key-{}" aria-hidden="true"></span> {}'
    chart_key = " ".join(key.format(name, w[name]) for name in ("official", "interval", "median"))
    svg = 'viewBox="0 0 360 64" width="100%" role="img" aria-labelledby="interval-title interval-desc"'
    moment = template_localtime(u.computed_at)
    time = f'<time datetime="{date_filter(moment, "c")}">{date_filter(moment, "DATETIME_FORMAT")}</time>'
    method = f'<a href="{reverse("web:methodology")}#uncertainty">{w["how"]}</a>'
    html = f"""{head}
  <p class="stability stability-{kind}"><strong class="stability-label">{w[kind]}</strong>
    {s["stability"]}</p>

  <figure class="chart interval-chart">
    <figcaption id="interval-caption">{w["caption"]}</figcaption>
    <svg {svg} focusable="false">
      <title id="interval-title">{w["title"]}</title>
      <desc id="interval-desc">{s["desc"]}</desc>
      {u.chart.marks}
    </svg>
    <p class="chart-key">{chart_key}</p>
  </figure>

  <dl class="uncertainty-figures">
    <div><dt>{w["net_interval"]}</dt><dd>{_decimal(u.net_p5)}–{_decimal(u.net_p95)} \
<span class="muted">({s["median"]})</span></dd></div>
    <div><dt>{w["grade_scenarios"]}</dt><dd>
      <svg class="share-bar" viewBox="0 0 300 20" aria-hidden="true" focusable="false">{u.share_bar}</svg>
      <span class="share-text">{s["shares"]}</span></dd></div>
    <div><dt>{w["rank"]}</dt><dd>{s["rank"]}
      <span class="muted">({s["top10"]})</span></dd></div>
  </dl>

  <h3 id="grade-changes-heading">{w["changes_heading"]}</h3>
  {changes}
  <details class="uncertainty-table">
    <summary>{w["table"]}</summary>
    <div class="table-scroll" role="region" aria-labelledby="uncertainty-table-caption" tabindex="0">
    <table>
      <caption id="uncertainty-table-caption">{w["table_caption"]}</caption>
      <thead><tr><th scope="col">{w["figure"]}</th>{columns}</tr></thead>
      <tbody>
        <tr><th scope="row">{w["net"]}</th>{net_cells}</tr>
        <tr><th scope="row">{w["rank"]}</th>{rank_cells}</tr>
      </tbody>
    </table>
    </div>
    <div class="table-scroll" role="region" aria-labelledby="grade-shares-caption" tabindex="0">
    <table>
      <caption id="grade-shares-caption">{w["shares_caption"]}</caption>
      <thead><tr><th scope="col">{w["grade"]}</th>{th.format(w["share"])}</tr></thead>
      <tbody>{shares}</tbody>
    </table>
    </div>
  </details>

  <p class="meta computed">{s["from"]} · {w["computed"]} {time} · {method}</p>
</section>"""
    return mark_safe(html)  # noqa: S308 (every text and name escaped above; the rest numbers)
