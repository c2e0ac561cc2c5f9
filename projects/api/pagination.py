"""Paging: page numbers for browsing (up to 200 a page), cursors for full syncs."""

from datetime import datetime

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination, PageNumberPagination

from .permissions import may_see_drafts

MAX_PAGE_SIZE = 200
MAX_SYNC_PAGE_SIZE = 1000


def _single(request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise exceptions.ValidationError({name: ["Give this parameter once."]})
    return values[0] if values else None


def _bound(parameters: list[dict], name: str, minimum: int, maximum: int | None = None) -> list[dict]:
    for parameter in parameters:
        if parameter["name"] == name:
            parameter["schema"]["minimum"] = minimum
            if maximum is not None:
                parameter["schema"]["maximum"] = maximum
    return parameters


def _size(request, name: str, default: int, maximum: int) -> int:
    raw = _single(request, name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:  # "²" is a digit
        raise exceptions.ValidationError({name: [f"Must be a whole number from 1 to {maximum}."]})
    return int(raw)


class SelectionPaginator(Paginator):
    """Pages of one queryset whose number of items the view has counted already (with the
    list's Last-Modified, in one query): the pages are rows with annotations (stored cards as
    text) that a count of their own would read for every match."""

    def __init__(self, object_list, per_page, known_count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self):
        return super().count if self.known_count is None else self.known_count


class PagePagination(PageNumberPagination):
    page_size = 50
    known_count = None  # the number of items, when the view counted them (see SelectionPaginator)

    def django_paginator_class(self, object_list, per_page):
        return SelectionPaginator(object_list, per_page, known_count=self.known_count)

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return _size(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = _single(request, self.page_query_param)
        raw = "1" if raw is None else raw
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise exceptions.ValidationError({self.page_query_param: ["Must be a whole number from 1."]})
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "next", "previous", "results"]
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        _bound(parameters, self.page_query_param, 1)
        return _bound(parameters, self.page_size_query_param, 1, self.max_page_size)


class SyncPagination(CursorPagination):
    """Everything in order of last change: resume from ``next`` and nothing is skipped; a
    project that changes during the sync comes again later, in its new state."""

    ordering = ("updated_at", "id")
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = MAX_SYNC_PAGE_SIZE

    def get_page_size(self, request):
        return _size(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def get_ordering(self, request, queryset, view):
        # Keys that see drafts sync by their last change of any kind (projects.Project.changed_at).
        return ("changed_at", "id") if may_see_drafts(request) else self.ordering

    def decode_cursor(self, request):
        """The cursor, or a 400 naming it when it was not one of ours (whatever is wrong inside)."""
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                datetime.fromisoformat(cursor.position)  # the position is a moment of change
        except (exceptions.NotFound, ValueError, TypeError):
            message = exceptions.ErrorDetail(
                "Invalid cursor: use a next or previous link as given.", "invalid"
            )
            raise exceptions.ValidationError({self.cursor_query_param: [message]}) from None
        return cursor

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["next", "previous", "results"]
        return response

    def get_schema_operation_parameters(self, view):
        return _bound(
            super().get_schema_operation_parameters(view), self.page_size_query_param, 1, self.max_page_size
        )
