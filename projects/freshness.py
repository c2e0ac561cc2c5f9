"""The site generation (projects.models.SiteState): read on every cached request, moved by every
change the public could see.

``site_changed()`` moves it inside the writer's transaction: readers see the new generation and
the new data together, at commit, on every worker and server (a cache keyed on it needs no
invalidation). Model saves and deletions move it through signals (projects.apps); bulk and raw
writes call it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connections
from django.db.models import F
from django.utils import timezone


@dataclass(frozen=True)
class Generation:
    number: int
    changed_at: datetime


def site_changed() -> None:
    from projects.models import SiteState

    updated = SiteState.objects.filter(pk=1).update(generation=F("generation") + 1, changed_at=timezone.now())
    if not updated:  # a database created before the row existed (or emptied by a test flush)
        SiteState.objects.get_or_create(pk=1)


def site_generation(using: str = "default") -> Generation:
    """The current generation: one primary-key read (on the primary unless told otherwise)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT generation, changed_at FROM projects_sitestate WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return Generation(0, datetime(2026, 1, 1, tzinfo=UTC))
    number, changed_at = row
    if isinstance(changed_at, str):  # SQLite through a raw cursor
        changed_at = datetime.fromisoformat(changed_at)
    if timezone.is_naive(changed_at):
        changed_at = changed_at.replace(tzinfo=UTC)
    return Generation(int(number), changed_at)
