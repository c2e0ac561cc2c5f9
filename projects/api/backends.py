"""Filtering that refuses what it does not understand: unknown parameters and values are 400s."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions

PAGING_PARAMETERS = {"page", "page_size", "cursor"}


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(filterset_class.base_filters) if filterset_class else set()
        unknown = sorted(set(request.query_params) - known - PAGING_PARAMETERS)
        if unknown:
            allowed = ", ".join(sorted(known | PAGING_PARAMETERS))
            raise exceptions.ValidationError(
                {name: [f"Unknown query parameter; allowed: {allowed}."] for name in unknown}
            )
        return super().filter_queryset(request, queryset, view)
