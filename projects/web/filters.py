"""The rankings' filters and sort orders, read from plain query parameters (shareable links).

Repeated parameters mean OR (``?body=moon&body=mars``); different parameters mean AND.
"""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from projects.vocabularies import Grade, Phase, RiskLevel, TargetBody


@dataclass(frozen=True)
class SortColumn:
    key: str
    field: str
    label: object
    # The first click on a column sorts this way: scores best first, names and risks A→Z / low first.
    descending_first: bool


SORT_COLUMNS = {
    column.key: column
    for column in (
        SortColumn("name", "name", _("Project"), False),
        SortColumn("operator", "operator__name", _("Operator"), False),
        SortColumn("grade", "published_score__grade", _("Grade"), False),
        SortColumn("net", "published_net", _("Net score"), True),  # the published card's, indexed
        SortColumn("sdg7", "published_score__sdg7", "SDG 7", True),
        SortColumn("sdg9", "published_score__sdg9", "SDG 9", True),
        SortColumn("sdg12", "published_score__sdg12", "SDG 12", True),
        SortColumn("debris", "published_score__debris", _("Debris risk"), False),
        SortColumn("equity", "published_score__equity", _("Equity risk"), False),
    )
}
DEFAULT_SORT = "-net"
SORT_CHOICES = [(key, key) for key in SORT_COLUMNS] + [(f"-{key}", f"-{key}") for key in SORT_COLUMNS]


def sort_projects(queryset: QuerySet, sort: str) -> QuerySet:
    """Order by one column; projects without a figure always come last, then by name."""
    descending = sort.startswith("-")
    column = SORT_COLUMNS[sort.lstrip("-")]
    if column.key == "grade":
        # An unrated project has an empty grade; it goes last whichever way the grades run.
        unrated_last = Case(
            When(published_score__grade="", then=Value(1)),
            When(published_score__isnull=True, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        grade = F(column.field).desc() if descending else F(column.field).asc()
        return queryset.order_by(unrated_last, grade, F("published_net").desc(nulls_last=True), "name")
    # Names sort as a reader expects, whatever their case (ispace beside iSpace, before NASA).
    expression = Lower(column.field) if column.key in ("name", "operator") else F(column.field)
    ordered = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return queryset.order_by(ordered, "name")


class RankingFilter(django_filters.FilterSet):
    body = django_filters.MultipleChoiceFilter(
        field_name="target_body", choices=TargetBody.choices, label=_("Body")
    )
    phase = django_filters.MultipleChoiceFilter(field_name="phase", choices=Phase.choices, label=_("Phase"))
    grade = django_filters.MultipleChoiceFilter(
        field_name="published_score__grade", choices=Grade.choices, label=_("Grade")
    )
    debris = django_filters.MultipleChoiceFilter(
        field_name="published_score__debris_level", choices=RiskLevel.choices, label=_("Debris risk")
    )
    equity = django_filters.MultipleChoiceFilter(
        field_name="published_score__equity_level", choices=RiskLevel.choices, label=_("Equity risk")
    )
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="apply_sort", label=_("Sort"))

    def apply_sort(self, queryset, name, value):
        return sort_projects(queryset, value or DEFAULT_SORT)

    @property
    def qs(self):
        queryset = super().qs
        if not self.is_bound or not (self.form.is_valid() and self.form.cleaned_data.get("sort")):
            queryset = sort_projects(queryset, DEFAULT_SORT)
        return queryset


def rejected_values(filterset: RankingFilter) -> list[tuple[str, str]]:
    """(parameter label, value) for every value the filters did not understand."""
    rejected = []
    for name in filterset.errors:
        field = filterset.form.fields[name]
        allowed = {str(value) for value, _label in field.choices}
        for value in filterset.data.getlist(name):
            if value not in allowed:
                rejected.append((str(field.label), value))
    return rejected


def valid_only(filterset: RankingFilter):
    """The query parameters with every value the filters rejected left out."""
    data = filterset.data.copy()
    for name in filterset.errors:
        field = filterset.form.fields[name]
        allowed = {str(value) for value, _label in field.choices}
        data.setlist(name, [value for value in data.getlist(name) if value in allowed])
    return data
