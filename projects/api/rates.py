"""Rate counting: each API key has its own rate; clients without a key share a lower one per address.

Counted in a sliding window estimated from two fixed windows (the current count plus the
previous window's, weighted by how much of it still overlaps): two cache operations a request
whatever the rate, where a list of timestamps grows with it. Requests are counted by
projects.api.access, once each, whether the read cache or DRF answers them.

With the cache unreachable (projects.cache_backend) the limits fail open: the request is served
and a warning logged, since refusing every client would turn a cache outage into an API outage.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from projects.cache_backend import CacheUnavailable, RateLimitedWarning

_parse_rate = SimpleRateThrottle.parse_rate
_warn_unlimited = RateLimitedWarning(logging.getLogger(__name__))


def client_ident(request, api_key) -> tuple[str, str]:
    """(ident, rate) of a client: its key's, or its address's (X-Forwarded-For per NUM_PROXIES)."""
    if api_key is not None:
        return f"key:{api_key.pk}", api_key.throttle_rate
    return f"anon:{BaseThrottle().get_ident(request)}", settings.API_ANONYMOUS_RATE


@dataclass(frozen=True)
class Admission:
    """One request's count: refused when ``wait`` is set (seconds); and what the client's
    RateLimit headers say (IETF draft-ietf-httpapi-ratelimit-headers): the limit, what is
    left of it now, when the current window ends (seconds), and the window's length."""

    wait: float | None
    limit: int
    remaining: int
    reset: int
    window: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }


def take(ident: str, rate: str) -> Admission | None:
    """Count one request of ``ident``: its admission, or None when no limit could be applied
    (the cache unavailable: the request is let in)."""
    try:
        return _take(ident, rate)
    except CacheUnavailable as exc:
        _warn_unlimited("Rate limits not enforced: the cache is unavailable (%s)", exc)
        return None


def _take(ident: str, rate: str) -> Admission:
    allowed, duration = _parse_rate(None, rate)
    now = time.time()
    window = int(now // duration)
    elapsed = now - window * duration
    current_key = f"throttle:{ident}:{rate}:{window}"
    previous = cache.get(f"throttle:{ident}:{rate}:{window - 1}", 0)
    cache.add(current_key, 0, timeout=2 * duration + 1)
    try:
        current = cache.incr(current_key)
    except ValueError:  # evicted between add and incr
        cache.set(current_key, 1, timeout=2 * duration + 1)
        current = 1
    overlap = (duration - elapsed) / duration
    used = previous * overlap + current
    reset = max(1, math.ceil(duration - elapsed))
    if used <= allowed:
        return Admission(None, allowed, max(0, math.floor(allowed - used)), reset, duration)
    cache.decr(current_key)  # a refused request does not count
    if current > allowed or previous == 0:
        return Admission(float(reset), allowed, 0, reset, duration)
    # Wait until the previous window's weight has fallen enough to admit one more.
    needed = (previous * overlap + current - allowed) * duration / previous
    return Admission(max(1.0, math.ceil(min(needed, duration - elapsed))), allowed, 0, reset, duration)
