"""The small, repeated pieces of the public pages — figures, grades, risk meters, origin notes,
sortable headings, level texts — as Python tags.

A home page shows some 400 of them and a project page 150; as template includes and inner loops
they were most of the pages' rendering time. Each tag returns exactly the markup its template did
(less an include file's final newline, which the templates keep after the tag), escaped as the
template escaped it, with the same msgids for its texts.
"""

import functools
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.formats import get_format
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, slugify
from django.utils.translation import get_language, gettext

from projects.validators import country_label

register = template.Library()
escape = conditional_escape  # the short name, in the markup written below

NO_VALUE = '<span aria-hidden="true">—</span><span class="visually-hidden">{}</span>'
GRADE = '<span class="grade grade-{}"><span class="visually-hidden">{} </span>{}</span>'
NO_GRADE = (
    '<span class="grade grade-none" title="{}"><span aria-hidden="true">–</span>'
    '<span class="visually-hidden">{}</span></span>'
)
SEVERE = ' <span class="severe"><span aria-hidden="true">⚠</span> {}</span>'
# x, y and height of the second, third and fourth bar of the risk meter, and the levels that light
# it (the first bar is always lit).
METER_BARS = (
    ("5", "5", "7", ("moderate", "elevated", "high")),
    ("10", "2.5", "9.5", ("elevated", "high")),
    ("15", "0", "12", ("high",)),
)
SORT_ARROWS = {
    "ascending": ' <span aria-hidden="true">▲</span>',
    "descending": ' <span aria-hidden="true">▼</span>',
    None: ' <span class="sortable" aria-hidden="true">↕</span>',
}
LEVEL = '<li value="{}"><span class="level-number">{}</span> {}</li>'
CHOSEN_LEVEL = (
    '<li value="{}" class="chosen"><span class="level-number">{}</span> {} <strong>({})</strong></li>'
)


@register.simple_tag
def number(value) -> SafeString:
    """A figure to one decimal place as ``floatformat:1`` writes it in the active language, or a
    dash that screen readers read as "no value" when there is none (None or "")."""
    if value is None or value == "":
        return format_html(NO_VALUE, gettext("no value"))
    return one_decimal(value)


TENTH = Decimal("0.1")
_DECIMAL_MARKS: dict[str, str] = {}  # language -> its decimal separator


register.simple_tag(country_label, name="country_label")


@register.simple_tag
def operator_facts(operator) -> str:
    """ "(United States, company)" — "（米国、企業）" in Japanese: its country and kind."""
    return gettext("(%(country)s, %(kind)s)") % {
        "country": country_label(operator.country),
        "kind": operator.get_kind_display(),
    }


@register.simple_tag
def value_range(low, high) -> SafeString:
    """A range as the pages write it, "41.0–46.1"; one figure when both ends are the same (every
    rating given: nothing can move it)."""
    first, last = one_decimal(low), one_decimal(high)
    return first if first == last else mark_safe(f"{first}–{last}")  # noqa: S308 (digits)


def one_decimal(value) -> SafeString:
    """What ``floatformat(value, 1)`` writes, the same digits and rounding (half up from the
    number's shortest decimal form), without its general machinery for the figures the pages
    show most: numbers above -1,000 and below 1,000 (never grouped) in a language whose decimal
    mark is a point. Anything else is left to ``floatformat`` itself."""
    language = get_language()
    mark = _DECIMAL_MARKS.get(language)
    if mark is None:
        mark = _DECIMAL_MARKS[language] = str(get_format("DECIMAL_SEPARATOR"))
    if type(value) in (float, int) and -1000 < value < 1000 and mark == ".":
        written = repr(value)
        if "e" not in written:  # floatformat gives a number in exponent form back as it is
            rounded = Decimal(written).quantize(TENTH, ROUND_HALF_UP)
            return mark_safe(str(rounded if rounded else abs(rounded)))  # noqa: S308 (digits; no "-0.0")
    return floatformat(value, 1)


@register.simple_tag
def grade(name) -> SafeString:
    """A grade letter in its coloured box, or a dash explained as "no grade" when there is none."""
    if name:
        return format_html(GRADE, str(name).lower(), gettext("Grade"), name)
    explanation = gettext("No grade: insufficient data")
    return format_html(NO_GRADE, explanation, explanation)


def _meter(level: str) -> SafeString:
    bars = "".join(
        f'<rect x="{x}" y="{y}" width="3" height="{height}" class="{"on" if level in lit else "off"}"/>'
        for x, y, height, lit in METER_BARS
    )
    return mark_safe(  # noqa: S308 (constant markup: the level itself is not written into it)
        '<svg class="meter" width="18" height="12" viewBox="0 0 18 12" aria-hidden="true" focusable="false">'
        f'<rect x="0" y="8" width="3" height="4" class="on"/>{bars}</svg>'
    )


# Built once: the meter depends on the level alone; an unknown level lights the first bar only.
METERS = {level: _meter(level) for level in ("low", "moderate", "elevated", "high")}


@register.simple_tag
def risk(level, name, severe) -> SafeString:
    """A risk level as a four-bar meter and its name, with ⚠ severe when a criterion is rated 4;
    "no level" when less than half of the dimension is assessed."""
    severe_note = format_html(SEVERE, gettext("severe")) if severe else ""
    if not level:
        return format_html('<span class="muted">{}</span>{}', gettext("no level"), severe_note)
    meter = METERS.get(level, METERS["low"])
    return format_html('<span class="risk risk-{}">{}{}{}</span>', level, meter, name, severe_note)


@register.simple_tag
def origin_note(project) -> SafeString:
    """The label of a project whose ratings are not a real assessment (demo or synthetic data)."""
    if not getattr(project, "is_illustrative", False):
        return mark_safe("")
    if project.origin == "synthetic":
        text = gettext("synthetic benchmark data")
    else:
        text = gettext("illustrative demo assessment")
    return format_html('<span class="origin-note origin-{}">{}</span>', project.origin, text)


@register.simple_tag
def sort_header(header, numeric=False) -> SafeString:
    """A column heading of the rankings that links to the table sorted by it, with its arrow."""
    return format_html(
        '<th scope="col"{}{}><a href="{}">{}{}</a></th>',
        format_html(' aria-sort="{}"', header.aria_sort) if header.aria_sort else "",
        mark_safe(' class="numeric"') if numeric else "",
        header.url,
        header.label,
        mark_safe(SORT_ARROWS.get(header.aria_sort, SORT_ARROWS[None])),  # noqa: S308 (constants)
    )


@register.simple_tag
def level_texts(texts, chosen) -> SafeString:
    """A criterion's anchored level texts from 0, the level the project is rated at marked."""
    return _level_texts(tuple(texts), chosen, get_language())


@functools.lru_cache(maxsize=4096)
def _level_texts(texts: tuple[str, ...], chosen, language) -> SafeString:
    # The list depends on these three alone (a method's texts, the level, the language of
    # "this project"): every project rated at the same level shares it.
    this_project = gettext("this project")
    items = []
    for level, text in enumerate(texts):
        # Not localized: no locale groups or separates the digits of a number below 1,000.
        number = str(level)
        if level == chosen:
            items.append(format_html(CHOSEN_LEVEL, number, number, text, this_project))
        else:
            items.append(format_html(LEVEL, number, number, text))
    return format_html('<ol class="level-texts" start="0">{}</ol>', mark_safe("".join(items)))  # noqa: S308


# (field, language) -> {value: label}: a field's choices do not change while the site runs.
_CHOICE_LABELS: dict[tuple, dict] = {}


@register.filter
def choice_label(instance, field_name: str):
    """What ``instance.get_<field_name>_display()`` returns, from a table of the field's labels in
    the active language built once; Django's method rebuilds the table, translating every label of
    the field, on each call (a home page makes 100 of them)."""
    field = instance._meta.get_field(field_name)
    key = (field, get_language())
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        labels = _CHOICE_LABELS[key] = {
            make_hashable(value): force_str(label, strings_only=True) for value, label in field.flatchoices
        }
    value = getattr(instance, field.attname)
    return labels.get(make_hashable(value), force_str(value, strings_only=True))


@register.simple_tag
def ranking_rows(rows) -> SafeString:
    """The rankings table's body rows (projects.web.rankings.ProjectRow), one ``<tr>`` each.

    Written here rather than as a template loop: 50 rows of ten cells were most of the home
    page's rendering time. The project links are reversed once per table, not once per row.
    """
    link = reverse("web:project", args=["-"])[:-2]  # ".../projects/" (a slug is URL-safe)
    texts = {
        # Each cell's column, shown beside it where the rows become cards (a phone's width).
        "labels": {
            key: escape(gettext(label))
            for key, label in (
                ("operator", "Operator"),
                ("grade", "Grade"),
                ("net", "Net score"),
                ("debris", "Debris risk"),
                ("equity", "Equity risk"),
                ("compare", "Compare"),
            )
        },
        "not_rated": gettext("not rated"),
        "range": gettext("range"),
        "insufficient": gettext("insufficient data"),
        # The rank's 90% interval over the uncertainty scenarios (method §8).
        "rank": escape(gettext("rank %(rank)s in 90%% of scenarios")),
        "ranks": escape(gettext("ranks %(low)s–%(high)s in 90%% of scenarios")),
    }
    return mark_safe("".join(_ranking_row(row, link, texts) for row in rows))  # noqa: S308 (escaped parts)


def _ranking_row(row, link: str, texts: dict) -> str:
    project, score = row.project, row.score
    name = conditional_escape(project.name)
    slug = conditional_escape(project.slug)
    origin = f" {origin_note(project)}\n" if project.is_illustrative else ""
    if score:
        grade_cell = grade(score.grade)
        net = f'<span class="net">{number(score.net_score)}\n</span>'
        # The range only where something missing could move the score.
        if score.net_low is not None and one_decimal(score.net_low) != one_decimal(score.net_high):
            net += (
                f'<span class="range"><span class="visually-hidden">{texts["range"]} </span>'
                f"{value_range(score.net_low, score.net_high)}</span>"
            )
        if score.status != "rated":
            net += f'<span class="status-note">{texts["insufficient"]}</span>'
        if row.rank_interval:
            low, _median, high = row.rank_interval
            ranks = (
                texts["rank"] % {"rank": low} if low == high else texts["ranks"] % {"low": low, "high": high}
            )
            net += f'<span class="rank-interval">{ranks}</span>'
        figures = (score.sdg7, score.sdg9, score.sdg12)
        risks = (
            risk(score.debris_level, row.debris_level_name, score.debris_severe),
            risk(score.equity_level, row.equity_level_name, score.equity_severe),
        )
    else:
        grade_cell = f'<span class="muted">{texts["not_rated"]}</span>'
        net, figures = "", (None, None, None)
        risks = (risk(None, "", False), risk(None, "", False))
    compare = gettext("Compare %(name)s") % {"name": name}
    label = texts["labels"]
    cells = "".join(
        f'<td class="numeric" data-label="SDG {goal}">{number(value)}\n</td>'
        for goal, value in zip((7, 9, 12), figures, strict=True)
    )
    return (
        f'<tr><th scope="row" class="project-cell"><a href="{link}{slug}/">{name}</a>\n'
        f'<span class="meta">{conditional_escape(choice_label(project, "target_body"))} · '
        f"{conditional_escape(choice_label(project, 'phase'))}{origin}</span></th>"
        f'<td data-label="{label["operator"]}">{conditional_escape(project.operator.name)}</td>'
        f'<td data-label="{label["grade"]}">{grade_cell}\n</td>'
        f'<td class="numeric" data-label="{label["net"]}">{net}</td>{cells}'
        f'<td data-label="{label["debris"]}">{risks[0]}\n</td>'
        f'<td data-label="{label["equity"]}">{risks[1]}\n</td>'
        f'<td class="compare-cell" data-label="{label["compare"]}">'
        f'<input type="checkbox" name="p" value="{slug}" id="compare-{slug}">'
        f'<label for="compare-{slug}"><span class="visually-hidden">{compare}</span></label></td></tr>\n'
    )


@register.simple_tag(takes_context=True)
def criterion_items(context, rows) -> SafeString:
    """A dimension's criteria on the project page (projects.web.project_page.CriterionRow), one
    ``<li>`` each: level, evidence, source and the criterion's anchored levels.

    Written here rather than as a template loop for the same reason as ``ranking_rows``: 25
    criteria of some 40 template nodes each were most of the project page's rendering time.
    """
    page_language = context.get("LANGUAGE_CODE")
    labels = {
        "justification": gettext("Justification"),
        "evidence_grade": gettext("Evidence grade"),
        "source": gettext("Source"),
        "rests_on": gettext("Rests on:"),
    }
    english_only = gettext("English only")
    labels["english_only"] = f'<span class="language-note">{escape(english_only)}</span>'
    items = (_criterion_item(row, page_language, labels) for row in rows)
    return mark_safe("".join(items))  # noqa: S308 (each part escaped)


def _in_language(row, page_language) -> str:
    language = row.justification_language
    return "" if language == page_language else f' lang="{conditional_escape(language)}"'


def _language_note(row, page_language, labels: dict) -> str:
    """ "English only" where a Japanese page shows a justification not written in Japanese."""
    if page_language == "ja" and row.justification_language != "ja":
        return " " + labels["english_only"]
    return ""


def _criterion_state(row, page_language, labels: dict) -> str:
    if row.status == "rated":
        severe = SEVERE.format(gettext("severe")) if row.is_severe else ""
        risk_class = " risk-criterion" if row.is_risk else ""
        if row.is_risk:  # the other way round from an SDG criterion: say so where it is read
            level = gettext("Risk level %(level)s of 4 (0 = no risk)") % {"level": row.level}
        else:
            level = gettext("Level %(level)s of 4") % {"level": row.level}
        if row.source_url:
            source = format_html(
                '<a href="{}" rel="nofollow noopener" class="source">{}</a>',
                row.source_url,
                Truncator(row.source_url).chars(70),
            )
        else:
            source = gettext("no source link")
        evidence = f"{escape(row.evidence_grade)}</span> {escape(row.evidence_grade_name)}"
        return (
            f'<p class="level-line"><span class="level level-{row.level}{risk_class}">{level}</span>'
            f"{severe}\n"
            f'<span class="level-meaning">{escape(row.level_text)}</span></p>'
            f'<dl class="evidence"><div><dt>{labels["justification"]}'
            f"{_language_note(row, page_language, labels)}</dt>"
            f"<dd{_in_language(row, page_language)}>{escape(row.justification)}</dd></div>"
            f'<div><dt>{labels["evidence_grade"]}</dt><dd><span class="evidence-grade">{evidence}</dd></div>'
            f"<div><dt>{labels['source']}</dt><dd>{source}</dd></div></dl>"
        )
    if row.status == "not_applicable":
        reason = (
            f"<p{_in_language(row, page_language)}>{conditional_escape(row.justification)}</p>"
            f"{_language_note(row, page_language, labels).strip()}"
            if row.justification
            else ""
        )
        label = gettext("Not applicable")
        explanation = gettext("This criterion cannot apply to this project and leaves its dimension's score.")
        return f'<p class="level-line"><span class="level level-na">{label}</span> {explanation}</p>{reason}'
    label = gettext("Not assessed yet")
    explanation = gettext("Counted as neither 0 nor 4: it widens the range.")
    return f'<p class="level-line"><span class="level level-missing">{label}</span> {explanation}</p>'


def _criterion_item(row, page_language, labels: dict) -> str:
    code = conditional_escape(row.code)
    weight = gettext("weight %(weight)s") % {"weight": row.weight}
    about = gettext("About %(code)s and its levels") % {"code": code}
    references = (
        f'<p class="references">{labels["rests_on"]} '
        f'<span lang="en">{conditional_escape(row.references)}</span></p>'
        if row.references
        else ""
    )
    return (
        f'<li class="criterion status-{escape(row.status)}" id="criterion-{slugify(row.code)}">'
        f'<h4><span class="code">{code}</span> {escape(row.name)} <span class="weight">({weight})</span></h4>'
        f"{_criterion_state(row, page_language, labels)}"
        f'<details class="criterion-about"><summary>{about}</summary><p>{escape(row.description)}</p>'
        f"{references}{level_texts(row.level_texts, row.level)}</details></li>\n"
    )
