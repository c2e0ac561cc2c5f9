"""Conditional requests: strong ETags from the representation, Last-Modified, If-Match on writes."""

import hashlib
import re
import time

from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from rest_framework import exceptions, status
from rest_framework.response import Response

from .parsers import WRITTEN, dumps


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send If-Match with the ETag of the resource you read, so that no update is lost."
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it (its ETag differs); read it again."
    default_code = "precondition_failed"


def etag_for(data, version: int | None = None) -> str:
    """A strong ETag of a representation: the same data always gives the same tag (the JSON is
    written in the representation's own key order, which each serializer fixes). With a version
    (a project's, to keys that see drafts), the tag moves with it too: a change of what the
    representation does not show (a rating's evidence) then moves it as well."""
    return _tag(dumps(data), version)


def _tag(body: bytes, version: int | None = None) -> str:
    digest = hashlib.sha256(body)
    if version is not None:
        digest.update(b"\0version:%d" % version)
    return '"' + digest.hexdigest()[:32] + '"'


def _matches(header: str, etag: str) -> bool:
    tags = parse_etags(header)
    return "*" in tags or etag in tags or etag in [t.removeprefix("W/") for t in tags]


INDENTED = re.compile(r'-indent\d+"$')


def variant_tag(etag: str, indent: int | None) -> str:
    """The tag of the representation as written: indented JSON (``Accept: application/json;
    indent=2``) is other bytes than the compact JSON, so it has a tag of its own."""
    return etag if not indent else f'{etag[:-1]}-indent{int(indent)}"'


def require_if_match(request, current_etag: str | None) -> None:
    """Writes to an existing resource must say which version they change (412/428 otherwise).
    The tag of any variant of the version read (indented or not) names it."""
    header = request.headers.get("If-Match")
    if current_etag is None:
        return
    if not header:
        raise PreconditionRequired()
    tags = [INDENTED.sub('"', tag) for tag in parse_etags(header)]
    if "*" not in tags and current_etag not in tags:
        raise PreconditionFailed()


def _indent_of(response) -> int | None:
    renderer = getattr(response, "accepted_renderer", None)
    if renderer is None or not hasattr(renderer, "get_indent"):
        return None
    return renderer.get_indent(response.accepted_media_type or "", response.renderer_context or {})


class ConditionalMixin:
    """ETag, Last-Modified and Cache-Control on successful reads, and 304 when unchanged.

    A view may set ``self.last_modified`` (a datetime) and ``self.etag_version`` (see etag_for)
    while it builds the response.
    """

    last_modified = None
    etag_version = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if not isinstance(response, Response) or response.data is None:
            return response
        # The ETag is the digest of the JSON the renderer writes: written once, kept for it.
        body = dumps(response.data)
        response.renderer_context[WRITTEN] = (response.data, body)
        etag = variant_tag(_tag(body, self.etag_version), _indent_of(response))
        headers = {"ETag": etag, "Cache-Control": "max-age=0, must-revalidate"}
        if self.last_modified is not None:
            headers["Last-Modified"] = http_date(self.last_modified.timestamp())
        for name, value in headers.items():
            response[name] = value
        patch_vary_headers(response, ["Accept", "Authorization"])
        if self._not_modified(request, etag):
            not_modified = Response(status=status.HTTP_304_NOT_MODIFIED)
            not_modified = super().finalize_response(request, not_modified, *args, **kwargs)
            for name, value in headers.items():
                not_modified[name] = value
            patch_vary_headers(not_modified, ["Accept", "Authorization"])
            return not_modified
        return response

    def _not_modified(self, request, etag: str) -> bool:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match:
            return _matches(if_none_match, etag)
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        if since is None or self.last_modified is None:
            return False
        # Dates have whole seconds: a change within the last second may hide another in the same
        # second, so only an older date can vouch that nothing changed.
        if time.time() - self.last_modified.timestamp() < 1:
            return False
        return int(self.last_modified.timestamp()) <= since
