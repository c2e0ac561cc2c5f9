"""The shared cache (Redis) as a speed-up, never a dependency: with Redis unreachable the site
answers uncached instead of failing every request.

Every cache read of the site is an optimisation (the page and API read caches are keyed on the
site generation; the key look-up falls back to the database) and every write may be lost, so a
failed read is a miss and a failed write does nothing. Counting (``incr``/``decr``) cannot
pretend: it raises ``CacheUnavailable`` and the rate limits decide (projects.api.throttling lets
the request through). After a failure the backend stops asking Redis for ``RETRY_AFTER``
seconds (a circuit breaker), so an outage costs one short timeout per process and period, not
one per request; the warning is logged when it happens and then at most once a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Redis answers in well under a millisecond; longer than this means it is not answering.
SOCKET_TIMEOUTS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
RETRY_AFTER = 5.0  # seconds without trying Redis after a failure
WARN_EVERY = 60.0  # seconds between repeated warnings while it stays down
# What an unreachable, restarting, read-only or garbled Redis raises (redis-py wraps socket errors).
FAILURES = (RedisError, OSError)


class CacheUnavailable(Exception):
    """The cache cannot be reached: a count (incr/decr) has no answer."""


class RateLimitedWarning:
    """A warning logged at most once per ``every`` seconds per process, however often it is due."""

    def __init__(self, log: logging.Logger = logger, every: float = WARN_EVERY):
        self.log = log
        self.every = every
        self._last = -float("inf")
        self._lock = threading.Lock()

    def __call__(self, message: str, *args) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.every:
                return
            self._last = now
        self.log.warning(message, *args)

    def reset(self) -> None:
        with self._lock:
            self._last = -float("inf")


class Breaker:
    """Whether to ask Redis at all: open (skip it) for RETRY_AFTER seconds after a failure.

    One per location and process, shared by the per-thread cache instances."""

    def __init__(self, location: str):
        self.location = ",".join(_without_password(url) for url in location.split(","))  # for the log
        self.open_until = 0.0
        self.error: str | None = None  # the last failure, while not recovered
        self.warn = RateLimitedWarning()

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def failed(self, exc: BaseException) -> None:
        self.open_until = time.monotonic() + RETRY_AFTER
        self.error = type(exc).__name__
        self.warn(
            "Cache %s unreachable (%s: %s): serving uncached, rate limits not enforced; "
            "retrying every %.0f s",
            self.location,
            type(exc).__name__,
            exc,
            RETRY_AFTER,
        )

    def succeeded(self) -> None:
        if self.error is not None:
            self.error = None
            self.warn.reset()  # the next outage is reported at once
            logger.warning("Cache %s reachable again", self.location)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str) -> Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, Breaker(location))


_MISSING = object()


class ResilientRedisCache(RedisCache):
    """Django's RedisCache with short socket timeouts, where Redis failing means a miss."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._options = {**SOCKET_TIMEOUTS, **self._options}  # OPTIONS may set other timeouts
        self._breaker = breaker_for(",".join(self._servers))

    def _guarded(self, call, fallback=None, *, counting: bool = False):
        if not self._breaker.allows():
            if counting:
                raise CacheUnavailable(self._breaker.error or "cache unavailable")
            return fallback
        try:
            result = call()
        except FAILURES as exc:
            self._breaker.failed(exc)
            if counting:
                raise CacheUnavailable(type(exc).__name__) from exc
            return fallback
        if self._breaker.error is not None:
            self._breaker.succeeded()
        return result

    def problem(self) -> str | None:
        """What is wrong with the cache (the error's name), None when Redis answers a PING; while
        the breaker is open, the failure that opened it (no new timeout)."""
        if self._breaker.allows():
            self._guarded(lambda: self._cache.get_client(None).ping())
        return self._breaker.error

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded(lambda: parent.add(key, value, timeout, version), False)

    def get(self, key, default=None, version=None):
        parent = super()
        return self._guarded(lambda: parent.get(key, default, version), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded(lambda: parent.set(key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded(lambda: parent.touch(key, timeout, version), False)

    def delete(self, key, version=None):
        parent = super()
        return self._guarded(lambda: parent.delete(key, version), False)

    def get_many(self, keys, version=None):
        parent = super()
        return self._guarded(lambda: parent.get_many(keys, version), {})

    def has_key(self, key, version=None):
        parent = super()
        return self._guarded(lambda: parent.has_key(key, version), False)

    def incr(self, key, delta=1, version=None):
        parent = super()
        return self._guarded(lambda: parent.incr(key, delta, version), counting=True)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded(lambda: parent.set_many(data, timeout, version), list(data))

    def delete_many(self, keys, version=None):
        parent = super()
        return self._guarded(lambda: parent.delete_many(keys, version))

    def clear(self):
        parent = super()
        return self._guarded(parent.clear, False)


def cache_problem(cache) -> str | None:
    """The cache's trouble for the health check; None when it works (or cannot fail: local memory)."""
    check = getattr(cache, "problem", None)
    return check() if check is not None else None
