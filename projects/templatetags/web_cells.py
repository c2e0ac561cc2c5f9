"""The small, repeated pieces of the public pages — figures, grades, risk meters, origin notes,
sortable headings, level texts — as Python tags.

A home page shows some 400 of them and a project page 150; as template includes and inner loops
they were most of the pages' rendering time. Each tag returns exactly the markup its template did
(less an include file's final newline, which the templates keep after the tag), escaped as the
template escaped it, with the same msgids for its texts.
"""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

register = template.Library()

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
