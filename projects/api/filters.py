"""The API's filters of the project lists (/projects and /rankings).

Repeated parameters mean OR (``?target_body=moon&target_body=mars``); different parameters AND.
An unknown value is an error that lists the allowed ones, never a silently empty result. The
public pages filter their rankings with their own (projects.web.filters): shorter parameters for
shareable links, where a value not understood is dropped and named, not refused.
"""

import re
from datetime import datetime

import django_filters
import pycountry
from django import forms
from django.db.models import F, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from projects.models import ApiKey, Operator, Project
from projects.selectors import visible_operators
from projects.validators import EXTRA_COUNTRY_CODES
from projects.vocabularies import Grade, Phase, Resource, RiskLevel, ScoreStatus, TargetBody


class TrueOrFalseField(forms.Field):
    """Only "true" or "false": anything else is an error, not a silently ignored filter."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Use true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """Whole numbers only: 2027, not 2027.5."""

    field_class = forms.IntegerField


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = TrueOrFalseField


# An RFC 3339 date-time, in any spelling its section 5.6 allows: "t" and "z" in lower case too,
# or a space for the "T", as a date typed into a URL often has. The interchange format is
# stricter (projects.interchange.schema): one spelling, the one its exporter writes.
QUERY_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")


class RFC3339DateTimeField(forms.Field):
    """A full date-time with its time zone (2026-11-24T09:30:00Z), as the API schema says."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if not QUERY_DATE_TIME.match(value):
            raise forms.ValidationError("Use a date-time with a time zone, e.g. 2026-11-24T09:30:00Z.")
        try:
            return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            raise forms.ValidationError("That date-time does not exist.") from None


@extend_schema_field(OpenApiTypes.DATETIME)
class RFC3339DateTimeFilter(django_filters.Filter):
    field_class = RFC3339DateTimeField


def _choice_error(choices) -> dict:
    allowed = ", ".join(str(value) for value, _label in choices)
    return {"invalid_choice": f"%(value)s is not allowed; use one of: {allowed}."}


def _multiple(field_name: str, choices, label: str) -> django_filters.MultipleChoiceFilter:
    # distinct=False: every path filtered on is to-one, so no row repeats, and DISTINCT over
    # every selected column (cards included) is costly.
    return django_filters.MultipleChoiceFilter(
        field_name=field_name,
        choices=choices,
        label=label,
        error_messages=_choice_error(choices),
        distinct=False,
    )


def country_choices() -> list[tuple[str, str]]:
    """Every country code an operator may have (ISO 3166-1 alpha-2, EU, ZZ), whether or not an
    operator has it yet: a filter by a country with no projects lists none, never a 400."""
    codes = {country.alpha_2 for country in pycountry.countries} | set(EXTRA_COUNTRY_CODES)
    return [(code, code) for code in sorted(codes)]


@extend_schema_field(OpenApiTypes.STR)
class OperatorSlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Operators by slug."""


ORDERING_FIELDS = {
    "net_score": "published_net",  # the published card's, beside the project: sorted off an index
    "sdg7": "published_score__sdg7",
    "sdg9": "published_score__sdg9",
    "sdg12": "published_score__sdg12",
    "debris": "published_score__debris",
    "equity": "published_score__equity",
    "name": "name",
    "launch_year": "launch_year",
    "updated": "updated_at",
}


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Ordering where projects without a figure come last either way, on every database."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = ", ".join(f"{name}, -{name}" for name in self.param_map)
        self.extra["error_messages"] = {"invalid_choice": f"%(value)s is not allowed; use one of: {allowed}."}

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        field = F(self.param_map[param.lstrip("-")])
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)

    def filter(self, qs, value):
        if not value:
            return qs
        if not all(value):  # "ordering=," or "ordering=name,": an empty key is a mistake, not a no-op
            raise ValidationError(
                {"ordering": ["Give ordering keys separated by commas, none of them empty."]}
            )
        return qs.order_by(*[self.get_ordering_value(param) for param in value], "slug")


class ProjectFilter(django_filters.FilterSet):
    target_body = _multiple("target_body", TargetBody.choices, "target body")
    resource = django_filters.MultipleChoiceFilter(
        choices=Resource.choices,
        method="filter_resource",
        label="resource",
        error_messages=_choice_error(Resource.choices),
    )
    phase = _multiple("phase", Phase.choices, "phase")
    operator = OperatorSlugFilter(
        distinct=False,
        field_name="operator__slug",
        to_field_name="slug",
        queryset=Operator.objects.all(),
        label="operator slug",
        error_messages={
            "invalid_choice": "%(value)s is not the slug of an operator (see /api/v1/operators)."
        },
    )
    operator_country = django_filters.MultipleChoiceFilter(
        field_name="operator__country",
        choices=country_choices,
        label="operator country",
        distinct=False,
        error_messages={
            "invalid_choice": "%(value)s is not a country code (ISO 3166-1 alpha-2, e.g. JP; EU; ZZ)."
        },
    )
    grade = _multiple("published_score__grade", Grade.choices, "grade")
    status = _multiple("published_score__status", ScoreStatus.choices, "score status")
    debris_level = _multiple("published_score__debris_level", RiskLevel.choices, "debris risk level")
    equity_level = _multiple("published_score__equity_level", RiskLevel.choices, "equity risk level")
    severe = StrictBooleanFilter(method="filter_severe", label="any severe risk flag")
    debris_severe = StrictBooleanFilter(field_name="published_score__debris_severe")
    equity_severe = StrictBooleanFilter(field_name="published_score__equity_severe")
    net_score_min = django_filters.NumberFilter(field_name="published_score__net_score", lookup_expr="gte")
    net_score_max = django_filters.NumberFilter(field_name="published_score__net_score", lookup_expr="lte")
    launch_year_min = IntegerFilter(field_name="launch_year", lookup_expr="gte")
    launch_year_max = IntegerFilter(field_name="launch_year", lookup_expr="lte")
    updated_since = RFC3339DateTimeFilter(
        method="filter_updated_since", label="changed at or after (RFC 3339, with its offset)"
    )
    q = django_filters.CharFilter(
        method="filter_search", label="words in the name or summary", max_length=200
    )
    ordering = NullsLastOrderingFilter(fields=[(path, name) for name, path in ORDERING_FIELDS.items()])

    class Meta:
        model = Project
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Operators known only through drafts stay unknown to those who may not see drafts.
        # (A request's filter set may hold only the filters it uses: projects.api.backends.)
        api_key = getattr(self.request, "auth", None)
        self.drafts = isinstance(api_key, ApiKey) and api_key.can_write
        operators = visible_operators(drafts=self.drafts)
        if self.drafts and "ordering" in self.filters:
            # Keys that see drafts see their last change as updated_at (changed_at).
            ordering = self.filters["ordering"]
            ordering.param_map = {**ordering.param_map, "updated": "changed_at"}
        if "operator" in self.filters:
            self.filters["operator"].queryset = operators

    def filter_updated_since(self, queryset, name, value):
        """Changed at or after ``value``: for keys that see drafts, any change they can see."""
        if value is None:
            return queryset
        return queryset.filter(**{"changed_at__gte" if self.drafts else "updated_at__gte": value})

    def filter_resource(self, queryset, name, values):
        if not values:
            return queryset
        # resources is a JSON list: match the quoted name in its text, on SQLite and PostgreSQL.
        condition = Q()
        for value in values:
            condition |= Q(resources__icontains=f'"{value}"')
        return queryset.filter(condition)

    def filter_severe(self, queryset, name, value):
        if value is None:
            return queryset
        flagged = Q(published_score__debris_severe=True) | Q(published_score__equity_severe=True)
        return queryset.filter(flagged) if value else queryset.exclude(flagged)

    def filter_search(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(summary__icontains=word) | Q(summary_ja__icontains=word)
            )
        return queryset
