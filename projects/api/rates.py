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


def take(ident: str, rate: str) -> float | None:
    """Count one request of ``ident``; None when allowed, else the seconds to wait."""
    try:
        return _take(ident, rate)
    except CacheUnavailable as exc:
        _warn_unlimited("Rate limits not enforced: the cache is unavailable (%s)", exc)
        return None


def _take(ident: str, rate: str) -> float | None:
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
    if previous * overlap + current <= allowed:
        return None
    cache.decr(current_key)  # a refused request does not count
    if current > allowed or previous == 0:
        return max(1.0, math.ceil(duration - elapsed))
    # Wait until the previous window's weight has fallen enough to admit one more.
    needed = (previous * overlap + current - allowed) * duration / previous
    return max(1.0, math.ceil(min(needed, duration - elapsed)))
