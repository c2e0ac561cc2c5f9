"""When a failed webhook delivery is tried again, and when a subscription that keeps failing is
turned off: exponential backoff with full jitter, for at most a day.

The n-th retry waits a random time up to ``min(CAP, BASE · 2ⁿ⁻¹)`` (full jitter: many deliveries
failing at once against one endpoint spread out instead of returning together). A delivery is
given up once a retry would start more than ``GIVE_UP`` after its first attempt; a subscription
whose deliveries have failed, without one success, for ``DISABLE_AFTER`` is disabled.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE = timedelta(seconds=30)
CAP = timedelta(hours=4)
GIVE_UP = timedelta(hours=24)
DISABLE_AFTER = timedelta(hours=24)


def retry_delay(retry: int, draw: random.Random | None = None, base: timedelta = BASE) -> timedelta:
    """How long the ``retry``-th retry (1 for the first) waits after the failure before it."""
    if retry < 1:
        raise ValueError("retries are counted from 1")
    ceiling = min(CAP, base * 2 ** min(retry - 1, 30))
    return ceiling * (draw or random.SystemRandom()).random()


def next_attempt(
    first_attempt: datetime, failed_at: datetime, retry: int, draw=None, base: timedelta = BASE
) -> datetime | None:
    """When to try a failing delivery again (None: it is given up, a day after its first try)."""
    when = failed_at + retry_delay(retry, draw, base)
    return None if when - first_attempt > GIVE_UP else when


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    """Whether a subscription failing since ``failing_since`` (None: its last delivery worked)
    is to be disabled."""
    return failing_since is not None and now - failing_since >= DISABLE_AFTER
