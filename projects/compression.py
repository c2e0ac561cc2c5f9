"""Compressed answers (zstd, brotli or gzip, as the client accepts), for what carries no
secret: BREACH-safe by construction.

BREACH recovers a secret from the size of compressed answers that also reflect what an attacker
sent, through requests the victim's browser makes with its ambient credentials. Here the only
ambient credential is the session cookie (the admin, with its CSRF tokens); API keys travel in
the Authorization header, which no other site can make a browser send. So an answer is
compressed only when the request carries no cookie of ours, the answer sets none, and it is not
an admin page; everything public (API reads, pages, exports, the schema) qualifies.

A compressed answer is other bytes than the plain one, so it keeps a strong ETag of its own:
the plain tag with ``-zstd``, ``-br`` or ``-gzip`` appended. Requests are read with that suffix
taken off their If-None-Match and If-Match, so everything inside (conditional GET, the read
cache, If-Match on writes) compares the plain tags, and a 304 carries the tag the client holds.
The compressors are django-compression-middleware's.
"""

import re

from compression_middleware.middleware import MIN_IMPROVEMENT, MIN_LEN, compressor
from django.conf import settings
from django.utils.cache import patch_vary_headers

ENCODED_TAG = re.compile(r'-(?:zstd|br|gzip)"')
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH")


def tag_for(etag: str, encoding: str) -> str:
    return f'{etag[:-1]}-{encoding}"' if etag.endswith('"') else etag


class CompressionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for header in CONDITIONAL_HEADERS:
            if header in request.META:
                request.META[header] = ENCODED_TAG.sub('"', request.META[header])
        response = self.get_response(request)
        if not self.may_compress(request, response):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        encoding, compress, compress_stream = compressor(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if encoding is None:
            return response
        if response.status_code == 304:  # the tag of the answer the client holds
            if response.has_header("ETag"):
                response["ETag"] = tag_for(response["ETag"], encoding)
            return response
        if response.streaming:
            response.streaming_content = compress_stream(response.streaming_content)
            del response["Content-Length"]
        else:
            if len(response.content) < MIN_LEN:
                return response
            compressed = compress(response.content)
            if len(compressed) >= len(response.content) - MIN_IMPROVEMENT:
                return response
            response.content = compressed
            response["Content-Length"] = str(len(compressed))
        if response.has_header("ETag"):
            response["ETag"] = tag_for(response["ETag"], encoding)
        response["Content-Encoding"] = encoding
        return response

    @staticmethod
    def may_compress(request, response) -> bool:
        """Only answers without secrets: no cookie of ours sent or set, no admin page, not
        already encoded (whitenoise's precompressed files), and a body to compress."""
        if response.has_header("Content-Encoding") or response.cookies:
            return False
        if response.status_code not in (200, 304) or request.method not in ("GET", "HEAD"):
            return False
        if settings.SESSION_COOKIE_NAME in request.COOKIES or settings.CSRF_COOKIE_NAME in request.COOKIES:
            return False
        return not request.path.startswith("/admin/")
