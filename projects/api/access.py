"""Who an API request's client is, and whether its rate lets it in: decided once per request.

The read cache (projects.api.cache), which answers repeated reads before DRF, and DRF's
authentication and throttle classes (projects.api.authentication, projects.api.throttling) all
ask here. Whichever asks first decides, and the others get the same answer: the key is looked up
once, its use recorded at most once a minute, and the request counted against its client's rate
once (projects.api.rates). The decision is held for the request's lifetime only, keyed on the
request object (never on the request's attributes).

A key is ``Authorization: Bearer sdg_…``. Every failure (malformed, unknown, expired, revoked) is
the same ``InvalidKey``, so that keys cannot be probed; a revoked key stops working on its next
request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from django.core.cache import cache
from django.utils import timezone
from rest_framework.authentication import get_authorization_header

from projects.models import ApiKey
from projects.models.api_keys import key_digest

from .rates import Admission, client_ident, take

KEYWORD = "Bearer"
LAST_USED_RESOLUTION = 60  # seconds: last_used_at is written at most once a minute per key
KEY_CACHE_SECONDS = 60


class InvalidKey(Exception):
    """A malformed, unknown, expired or revoked key."""


@dataclass
class _Decision:
    api_key: ApiKey | None | InvalidKey = None
    keyed: bool = False  # the client was decided (api_key holds the answer)
    counted: bool = False  # the request was counted (admission holds the answer)
    admission: Admission | None = None


_decisions: WeakKeyDictionary = WeakKeyDictionary()
_last_used_written: dict[str, float] = {}  # key prefix → when this process last wrote last_used_at


def _decision(request) -> _Decision:
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    decision = _decisions.get(request)
    if decision is None:
        decision = _decisions[request] = _Decision()
    return decision


def bearer_key(request) -> str | None:
    """The key of the request's ``Authorization: Bearer …`` header, None without the header."""
    header = get_authorization_header(request).split()
    if not header:
        return None
    if header[0].decode("latin-1").lower() != KEYWORD.lower() or len(header) != 2:
        raise InvalidKey
    try:
        return header[1].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidKey from None


def kept_as(request, generation: int) -> str | None:
    """The cache key under which the lookup of the request's key is kept for ``generation``:
    the key's digest, never the key itself (None without a well-formed key)."""
    try:
        raw = bearer_key(request)
    except InvalidKey:
        return None
    return None if raw is None else f"api:key:{generation}:{key_digest(raw)}"


def client(request, *, generation: int | None = None, kept=None) -> ApiKey | None:
    """The request's usable key, None without one; ``InvalidKey`` for any failure.

    With the site ``generation`` (projects.freshness; the read cache has it at hand) the lookup
    is kept in the cache (``kept_as``): revoking a key moves the generation, so a kept answer
    never outlives the key. ``kept`` is what the cache held there, when the caller read it
    along with other entries (one round trip); otherwise it is read here.
    """
    decision = _decision(request)
    if not decision.keyed:
        try:
            decision.api_key = _find(request, generation, kept)
        except InvalidKey as exc:
            decision.api_key = exc
        decision.keyed = True
        if isinstance(decision.api_key, ApiKey):
            _note_use(decision.api_key)
    if isinstance(decision.api_key, InvalidKey):
        raise decision.api_key
    return decision.api_key


def admit(request) -> float | None:
    """Count the request against its client's rate, once: None when allowed, else the seconds
    to wait. The client must be known (``client`` returned)."""
    decision = _decision(request)
    if not decision.counted:
        ident, rate = client_ident(request, client(request))
        decision.admission, decision.counted = take(ident, rate), True
    return None if decision.admission is None else decision.admission.wait


def rate_headers(request) -> dict[str, str]:
    """The RateLimit headers of a counted request (none for one that was not counted: refused
    before, for a bad key, or with the cache unavailable)."""
    decision = _decisions.get(getattr(request, "_request", request))
    if decision is None or decision.admission is None:
        return {}
    return decision.admission.headers()


def read_only_client(request) -> bool:
    """Whether the request was decided to come from a read-scope key (not a write key, not a
    refused key, not undecided: a request that ended before its key was checked)."""
    decision = _decisions.get(getattr(request, "_request", request))
    return (
        decision is not None
        and isinstance(decision.api_key, ApiKey)
        and decision.counted
        and not decision.api_key.can_write
    )


def _find(request, generation: int | None, kept) -> ApiKey | None:
    raw = bearer_key(request)
    if raw is None:
        return None
    if generation is None:
        found = ApiKey.find(raw)
    else:
        name = f"api:key:{generation}:{key_digest(raw)}"
        found = cache.get(name) if kept is None else kept
        if found is None:
            found = ApiKey.find(raw) or False  # False: kept as "no such usable key"
            cache.set(name, found, KEY_CACHE_SECONDS)
        if found is not False and not found.is_usable:  # expired since it was kept
            found = None
    if not found:
        raise InvalidKey
    return found


def _note_use(api_key: ApiKey) -> None:
    """last_used_at, at most once a minute per key: the stored time says when it was last
    written, and each process also remembers (a key kept in the cache carries an older time)."""
    now, moment = timezone.now(), time.monotonic()
    if moment - _last_used_written.get(api_key.prefix, -3600.0) < LAST_USED_RESOLUTION:
        return
    _last_used_written[api_key.prefix] = moment
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
