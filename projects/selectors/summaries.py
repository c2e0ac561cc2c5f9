"""Counts and newest dates of public selections (a list's page count and its Last-Modified),
kept per site generation (projects.freshness).

Counting reads every project a list selects; at 100,000 projects that is most of a page's
time, and it is the same answer for every reader until something public changes. The answer
is kept under the generation read from the database the count is read from (the primary, or
a replica the request reads from): a generation moves with every change the public could see,
so a kept answer is never stale, and one counted after a newer commit only ever reaches readers
of that newer state. Selections that show drafts are never kept: their working cards move
without moving the generation.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import QuerySet

from projects.freshness import site_generation
from projects.response_cache import cache_key

SECONDS = 600


def public_summary(selection: QuerySet, *, generation: int | None = None, **aggregates) -> dict:
    """``selection.aggregate(**aggregates)``, kept for the current site generation (read here
    unless the caller read it from the same database already)."""
    selection = selection.order_by()
    if generation is None:
        generation = site_generation(using=selection.db).number
    sql, params = selection.query.sql_with_params()
    named = ",".join(f"{name}={expression!r}" for name, expression in sorted(aggregates.items()))
    key = cache_key(f"summary:{generation}", selection.db, sql, repr(params), named)
    found = cache.get(key)
    if found is None:
        found = selection.aggregate(**aggregates)
        cache.set(key, found, SECONDS)
    return found
