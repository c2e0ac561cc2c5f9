"""Keeping a finished response in the cache and answering from it: shared by the API's read
cache (projects.api.cache) and the public pages' cache (projects.web.caching)."""

import hashlib

from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

KEPT_HEADERS = {
    "content-type",
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "content-language",
    "x-frame-options",
    "allow",
}
# What decorators leave on a response for the middleware outside the cache (django-csp, framing).
RESPONSE_ATTRIBUTES = (
    "_csp_exempt",
    "_csp_exempt_ro",
    "_csp_update",
    "_csp_update_ro",
    "_csp_replace",
    "_csp_replace_ro",
    "_csp_config",
    "_csp_config_ro",
    "xframe_options_exempt",
)


def cache_key(prefix: str, *parts: str) -> str:
    """A cache key for a request's parts (path, headers): digested, since a header may hold
    spaces or characters some cache backends refuse in keys, and a path may be long."""
    digest = hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()
    return f"{prefix}:{digest}"


def keepable(response) -> tuple | None:
    """(content, headers, attributes) of a 200 with an ETag, or None for anything else."""
    if (
        response.status_code != 200
        or response.streaming
        or not response.has_header("ETag")
        or response.cookies
    ):
        return None
    headers = {name: value for name, value in response.items() if name.lower() in KEPT_HEADERS}
    attributes = {name: getattr(response, name) for name in RESPONSE_ATTRIBUTES if hasattr(response, name)}
    return response.content, headers, attributes


def replay(request, stored: tuple) -> HttpResponse:
    """The kept response, or a 304 when the request's validators match it."""
    content, headers, attributes = stored
    not_modified = get_conditional_response(
        request,
        etag=headers.get("ETag"),
        last_modified=parse_http_date_safe(headers.get("Last-Modified", "")),
    )
    response = not_modified if not_modified is not None else HttpResponse(content)
    for name, value in headers.items():
        if not (not_modified is not None and name.lower() == "content-type"):
            response[name] = value
    for name, value in attributes.items():
        setattr(response, name, value)
    return response
