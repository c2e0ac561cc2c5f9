"""The small pieces of the public tables — figures, grades, risk meters, origin notes, sortable
headings — as Python tags: a home page shows some 400 of them, and as template includes they
were most of its rendering time. Each returns exactly the markup its include did (less the include
file's final newline), escaped as the template escaped it, with the same msgids for its texts."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()

# Levels at which the second, third and fourth bar of the risk meter are lit (the first always is).
METER_BARS = (
    ("5", "5", "7", ("moderate", "elevated", "high")),
    ("10", "2.5", "9.5", ("elevated", "high")),
    ("15", "0", "12", ("high",)),
)
SEVERE = ' <span class="severe"><span aria-hidden="true">⚠</span> {}</span>'


@register.simple_tag
def number(value) -> SafeString:
    """A figure to one decimal place as ``floatformat:1`` writes it in the active language, or a
    dash that screen readers read as "no value" when there is none (None or "")."""
    if value is None or value == "":
        return format_html(
            '<span aria-hidden="true">—</span><span class="visually-hidden">{}</span>', gettext("no value")
        )
    return floatformat(value, 1)


@register.simple_tag
def grade(name) -> SafeString:
    """A grade letter in its coloured box, or a dash explained as "no grade" when there is none."""
    if name:
        return format_html(
            '<span class="grade grade-{}"><span class="visually-hidden">{} </span>{}</span>',
            str(name).lower(),
            gettext("Grade"),
            name,
        )
    explanation = gettext("No grade: insufficient data")
    return format_html(
        '<span class="grade grade-none" title="{}"><span aria-hidden="true">–</span>'
        '<span class="visually-hidden">{}</span></span>',
        explanation,
        explanation,
    )


def _meter(level: str) -> SafeString:
    bars = "".join(
        f'<rect x="{x}" y="{y}" width="3" height="{height}" class="{"on" if level in lit else "off"}"/>'
        for x, y, height, lit in METER_BARS
    )
    return mark_safe(  # noqa: S308 (constant markup: no level name goes into it)
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
    if header.aria_sort == "ascending":
        arrow = mark_safe(' <span aria-hidden="true">▲</span>')
    elif header.aria_sort == "descending":
        arrow = mark_safe(' <span aria-hidden="true">▼</span>')
    else:
        arrow = mark_safe(' <span class="sortable" aria-hidden="true">↕</span>')
    return format_html(
        '<th scope="col"{}{}><a href="{}">{}{}</a></th>',
        format_html(' aria-sort="{}"', header.aria_sort) if header.aria_sort else "",
        mark_safe(' class="numeric"') if numeric else "",
        header.url,
        header.label,
        arrow,
    )
