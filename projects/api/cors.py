"""Who may read the API (and the badge) from a web page on another site (CORS).

- Public reads (GET and HEAD without a key): from any origin. They carry no credentials, and
  what they show is public.
- Anything with a key, and every write: only from the origins listed on that key
  (``ApiKey.allowed_origins``). A preflight cannot show its key, so it is answered for an
  origin that some usable key lists; the request itself is then checked against its own key,
  and refused (403) from an origin its key does not list (``refuse_unlisted_origin``), so that
  a listed origin cannot borrow another key's writes.

django-cors-headers writes the headers; this module answers its ``check_request_enabled``
signal. Without an Origin header (servers, scripts) none of this applies.
"""

import re

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.dispatch import receiver
from rest_framework import exceptions

from projects.models import ApiKey

from . import access

SAFE = ("GET", "HEAD")


def _cors_path(request) -> bool:
    return bool(re.match(settings.CORS_URLS_REGEX, request.path_info))


def listed_by_a_key(origin: str) -> bool:
    """Whether some usable key lists the origin (for preflights, which carry no key)."""
    candidates = ApiKey.objects.usable().filter(allowed_origins__icontains=origin.rstrip("/"))
    return any(key.allows_origin(origin) for key in candidates)


def may_read_across_origins(request) -> bool:
    origin = request.headers.get("origin", "")
    if not origin or not _cors_path(request):
        return False
    if request.method == "OPTIONS":
        method = request.headers.get("access-control-request-method", "").upper()
        asked = request.headers.get("access-control-request-headers", "").lower().replace(" ", "").split(",")
        if method in SAFE and "authorization" not in asked:
            return True
        return listed_by_a_key(origin)
    if "HTTP_AUTHORIZATION" not in request.META:
        return request.method in SAFE
    try:
        api_key = access.client(request)
    except access.InvalidKey:
        return False
    return api_key is not None and api_key.allows_origin(origin)


@receiver(check_request_enabled, dispatch_uid="sdgscore-cors")
def _cors_enabled(sender, request, **kwargs) -> bool:
    return may_read_across_origins(request)


def refuse_unlisted_origin(request, api_key: ApiKey | None) -> None:
    """403 for a keyed request from another site's page whose origin the key does not list."""
    origin = request.headers.get("origin")
    if api_key is None or not origin:
        return
    own = f"{request.scheme}://{request.get_host()}".lower()
    if origin.lower().rstrip("/") == own or api_key.allows_origin(origin):
        return
    raise exceptions.PermissionDenied(
        f"This key may not be used from pages of {origin[:100]}: list the origin on the key "
        "(API keys → browser origins) or call from a server."
    )
