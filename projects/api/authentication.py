"""API-key authentication: ``Authorization: Bearer sdg_…``, decided by projects.api.access.

Every failure (malformed, unknown, expired, revoked) gets the same 401 and message, so keys
cannot be probed; a revoked key stops working on its next request.
"""

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions

from . import access

INVALID = "Invalid API key."


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = access.KEYWORD

    def authenticate(self, request):
        try:
            api_key = access.client(request)
        except access.InvalidKey:
            raise exceptions.AuthenticationFailed(INVALID) from None
        if api_key is None:
            return None
        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="sdgscore"'
