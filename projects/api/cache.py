"""The API's read cache: repeated reads by clients who see only published data (no key, or a
read-scope key) are answered from the cache, before sessions, locales and DRF.

Responses are keyed on the site generation (projects.freshness), the scheme and host (answers
carry absolute links), the path with its query, and the Accept header. The host is checked
against ALLOWED_HOSTS first, as Django would further in: a cached answer is no way round it.
The generation moves with every change the public could see, so a cached
answer is never stale. Each answer still authenticates its key (revoked keys are refused at once:
revocation moves the generation) and counts against the client's rate like any other request.
Write-scope keys see drafts and are never served from it. ``RESPONSE_CACHE=0`` turns it off.

Every API request passes through here inside ``routing.one_request()``: a replica the view
chooses for its reads (projects.routing) is known here too, and never outlives the request.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from projects import routing
from projects.freshness import site_generation
from projects.response_cache import cache_key, keepable, replay

from . import access

PREFIX = "/api/v1/"
# The schema is static; exports stream; profiles and webhooks are each key's own, not the site's.
NOT_CACHED = ("/api/v1/schema", "/api/v1/export/", "/api/v1/profiles", "/api/v1/webhooks")
SECONDS = 600
DATE_PRECONDITIONS = ("HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_MATCH")


def _current(generation: int) -> bool:
    """Whether the answer shows the data of ``generation``: always when read from the primary;
    from a replica (projects.routing) only when the replica has caught up with it, so that an
    answer a lagging replica gave is served but never kept under the newer generation."""
    replica = routing.reading_from()
    return replica is None or site_generation(using=replica).number == generation


class ApiReadCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        with routing.one_request():  # the replica a view may choose is this request's alone
            if not settings.RESPONSE_CACHE or request.method != "GET" or request.path.startswith(NOT_CACHED):
                response = self.get_response(request)
            else:
                response = self.answer(request)
        # Every counted answer, from here or from DRF, says where its client stands.
        for name, value in access.rate_headers(request).items():
            response[name] = value
        return response

    def answer(self, request):
        host = request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
        generation = site_generation().number
        key = cache_key(
            f"api:read:{generation}",
            request.scheme,
            host,
            request.get_full_path(),
            request.META.get("HTTP_ACCEPT", ""),
        )
        # The client's key and the answer, read from the cache in one round trip. Date
        # preconditions are left to the view (its rule for changes within the last second).
        client_kept = access.kept_as(request, generation)
        dated = any(name in request.META for name in DATE_PRECONDITIONS)
        found = cache.get_many([name for name in (client_kept, None if dated else key) if name])
        try:
            api_key = access.client(request, generation=generation, kept=found.get(client_kept))
        except access.InvalidKey:
            return self.get_response(request)  # DRF answers 401
        if api_key is not None and (api_key.can_write or "HTTP_ORIGIN" in request.META):
            # Drafts are never served from here; nor a keyed request from a web page, whose
            # origin the key must list (projects.api.cors, checked by the view).
            return self.get_response(request)
        if access.admit(request) is not None:
            return self.get_response(request)  # DRF answers 429 with its problem document
        stored = found.get(key)
        if stored is not None:
            return replay(request, stored)
        response = self.get_response(request)
        kept = keepable(response)
        if kept is not None and _current(generation):
            cache.set(key, kept, SECONDS)
        return response
