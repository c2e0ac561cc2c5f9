"""Filtering that refuses what it does not understand: unknown parameters and values are 400s."""

from functools import lru_cache

from django_filters import ModelMultipleChoiceFilter, MultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions

PAGING_NAMES = ("page_query_param", "page_size_query_param", "cursor_query_param")


def paging_parameters(view) -> set[str]:
    """The paging parameters the request's action understands: its paginator's, on a list; none
    on a single resource or an unpaged list (a page there would mean nothing)."""
    if getattr(view, "action", "list") != "list" or not hasattr(view, "list"):
        return set()
    paginator = getattr(view, "paginator", None)
    if paginator is None:
        return set()
    return {getattr(paginator, name) for name in PAGING_NAMES if getattr(paginator, name, None)}


def refuse_unknown_parameters(request, view) -> None:
    """400 naming each query parameter the view does not understand, with the list of those it
    does (its filters, and its paging where it pages)."""
    if not request.query_params:
        return
    filterset_class = getattr(view, "filterset_class", None)
    known = set(filterset_class.base_filters) if filterset_class else set()
    known |= paging_parameters(view)
    known |= set(getattr(view, "query_parameters", ()))  # the view's own (the rankings' weights)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        message = exceptions.ErrorDetail(f"Unknown query parameter; allowed: {allowed}.", "unknown_parameter")
        raise exceptions.ValidationError({name: [message] for name in unknown})


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
        refuse_unknown_parameters(request, view)
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(filterset_class.base_filters) if filterset_class else set()
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
