"""API-key authentication: ``Authorization: Bearer sdg_…``.

Every failure (malformed, unknown, expired, revoked) gets the same 401 and message, so keys
cannot be probed; a revoked key stops working on its next request.
"""

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions

from projects.models import ApiKey

INVALID = "Invalid API key."
LAST_USED_RESOLUTION = 60  # seconds: write last_used_at at most once a minute per key


class MalformedKey(Exception):
    """An Authorization header that is not ``Bearer <key>``."""


def bearer_key(request) -> str | None:
    """The key of the request's ``Authorization: Bearer …`` header, None without the header
    (shared with the API's read cache, projects.api.cache)."""
    header = authentication.get_authorization_header(request).split()
    if not header:
        return None
    if header[0].decode("latin-1").lower() != ApiKeyAuthentication.keyword.lower() or len(header) != 2:
        raise MalformedKey
    try:
        return header[1].decode("ascii")
    except UnicodeDecodeError:
        raise MalformedKey from None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        try:
            key = bearer_key(request)
        except MalformedKey:
            raise exceptions.AuthenticationFailed(INVALID) from None
        if key is None:
            return None
        api_key = ApiKey.find(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID)
        now = timezone.now()
        if (
            api_key.last_used_at is None
            or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION
        ):
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="sdgscore"'
