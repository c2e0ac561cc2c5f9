"""Filtering that refuses what it does not understand: unknown parameters and values are 400s."""

from functools import lru_cache

from django_filters import ModelMultipleChoiceFilter, MultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions

PAGING_PARAMETERS = {"page", "page_size", "cursor"}


@lru_cache(maxsize=512)
def narrowed(filterset_class, names: frozenset[str]):
    """The filter set with only the named filters. A filter set deep-copies every filter and
    builds a form field for each on every request; a filter without a value changes nothing, so
    a request builds only those it gives (about 1 ms a request for the projects' 22 filters)."""
    narrow = type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__})
    narrow.base_filters = {name: f for name, f in filterset_class.base_filters.items() if name in names}
    return narrow


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        if not request.query_params:  # nothing to filter: skip building the filter set
            return queryset
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(filterset_class.base_filters) if filterset_class else set()
        unknown = sorted(set(request.query_params) - known - PAGING_PARAMETERS)
        if unknown:
            allowed = ", ".join(sorted(known | PAGING_PARAMETERS))
            raise exceptions.ValidationError(
                {name: [f"Unknown query parameter; allowed: {allowed}."] for name in unknown}
            )
        empty = sorted(
            name for name, values in request.query_params.lists() if name in known and "" in values
        )
        if empty:
            raise exceptions.ValidationError(
                {name: ["Give a value, or leave the parameter out."] for name in empty}
            )
        repeated = sorted(
            name
            for name in request.query_params
            if len(request.query_params.getlist(name)) > 1
            and name in known
            and not isinstance(
                filterset_class.base_filters[name], MultipleChoiceFilter | ModelMultipleChoiceFilter
            )
        )
        if repeated:
            raise exceptions.ValidationError({name: ["Give this parameter once."] for name in repeated})
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        used = frozenset(request.query_params) & frozenset(filterset_class.base_filters)
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        return narrowed(filterset_class, used)(**kwargs)
