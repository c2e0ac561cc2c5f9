"""Read replicas for API reads (optional): ``DATABASE_REPLICA_URLS`` names one or more.

Only what tolerates a replica's lag is read from one: the API's GET and HEAD requests from
clients who see published data only (no key, or a read-scope key), once the key is checked on
the primary. Everything else reads and writes the primary: the admin, the public pages,
write-scope keys (they read back what they wrote), services, commands and task workers, and the
site generation that keys the response cache (see projects.api.cache: an answer read from a
replica that is behind is served but not cached).

The choice is per request and held in a context variable, so threads and async tasks never
share it; a request picks one replica at random and stays on it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA_PREFIX = "replica"

_reading_from: ContextVar[str | None] = ContextVar("sdgscore_reading_from", default=None)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


def read_from_a_replica() -> str | None:
    """Send this request's reads to one of the replicas (None when there is none)."""
    aliases = replica_aliases()
    alias = random.choice(aliases) if aliases else None  # noqa: S311 -- load spreading, not secrets
    _reading_from.set(alias)
    return alias


@contextmanager
def one_request() -> Iterator[None]:
    """The span of one API request (projects.api.cache enters it first): its reads start on the
    primary, and a replica chosen within it is this request's only."""
    token = _reading_from.set(None)
    try:
        yield
    finally:
        _reading_from.reset(token)


def reading_from() -> str | None:
    """The replica this request reads from (None: the primary)."""
    return _reading_from.get()


class ReadReplicaRouter:
    """Reads go where the request said (a replica, or by default the primary); writes, relations
    and migrations stay on the primary ("default")."""

    def db_for_read(self, model, **hints):
        return _reading_from.get()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas are copies of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
