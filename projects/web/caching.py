"""HTTP caching for public pages: ETag, Last-Modified, Cache-Control, and a server-side page cache.

Every key includes the site generation (projects.freshness), which moves in the same transaction
as every change the public could see, so no page is ever served with a stale score: a change
gives new ETags and new cache keys at once, on every worker, with nothing to invalidate by hand.
``RESPONSE_CACHE=0`` turns the server-side cache off (validators stay).
"""

from __future__ import annotations

import hashlib
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from projects.freshness import site_generation
from projects.response_cache import cache_key, keepable, replay

MAX_AGE = 60
SERVER_CACHE_SECONDS = 600
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_PAGE_SOURCES = (
    _PACKAGE_ROOT / "templates" / "web",
    _PACKAGE_ROOT / "static" / "web",
    _PACKAGE_ROOT.parent / "locale",
)


def _deploy_token() -> str:
    """Changes when templates, styles or translations change, so a deploy refreshes every page."""
    digest = hashlib.sha256()
    for root in _PAGE_SOURCES:
        for path in sorted(root.rglob("*")) if root.exists() else ():
            if path.is_file():
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(_PACKAGE_ROOT.parent)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                )
    return digest.hexdigest()[:16]


DEPLOY_TOKEN = _deploy_token()


def public_page(view):
    """Serve a GET/HEAD page with validators and a short public max-age, cached per freshness."""

    @require_safe
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        generation = site_generation()
        # Pages carry absolute links (canonical, alternates): the scheme and host are part of them.
        identity = "|".join(
            (
                DEPLOY_TOKEN,
                str(generation.number),
                get_language() or "",
                request.scheme,
                request.get_host(),
                request.get_full_path(),
            )
        )
        etag = quote_etag(hashlib.sha256(identity.encode()).hexdigest()[:32])
        last_modified = int(generation.changed_at.timestamp())

        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            return _with_validators(not_modified, etag, last_modified)

        # The page itself is kept by PageCacheMiddleware, which answers repeated visits.
        response = view(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        return _with_validators(response, etag, last_modified)

    return wrapper


def _with_validators(response: HttpResponse, etag: str, last_modified: int | None) -> HttpResponse:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


class PageCacheMiddleware:
    """Repeated visits to a public page answered before sessions, locales and URL resolving.

    Only pages that ``public_page`` served (public Cache-Control and an ETag) under a language
    prefix are kept, keyed like them on the site generation, scheme and host, so a replay is
    exactly what the view would answer now. The host is checked against ALLOWED_HOSTS before the
    cache is read, as Django would further in.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(f"/{code}/" for code, _name in settings.LANGUAGES)

    def __call__(self, request):
        if (
            not settings.RESPONSE_CACHE
            or request.method != "GET"
            or not request.path.startswith(self.prefixes)
        ):
            return self.get_response(request)
        host = request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
        generation = site_generation().number
        key = cache_key(f"web:mw:{DEPLOY_TOKEN}:{generation}", request.scheme, host, request.get_full_path())
        stored = cache.get(key)
        if stored is not None:
            return replay(request, stored)
        response = self.get_response(request)
        if "public" in response.get("Cache-Control", ""):  # served by public_page
            if hasattr(response, "render"):
                response.render()
            kept = keepable(response)
            if kept is not None:
                cache.set(key, kept, SERVER_CACHE_SECONDS)
        return response
