"""Who may do what: anyone reads published data; write-scope keys also write (drafts)."""

from rest_framework import exceptions, permissions

from projects.models import ApiKey


def api_key_of(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def may_see_drafts(request) -> bool:
    api_key = api_key_of(request)
    return api_key is not None and api_key.can_write


class ReadOrWriteScope(permissions.BasePermission):
    """Safe methods for everyone; others need a key (401 without) with the write scope (403)."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        api_key = api_key_of(request)
        if api_key is None:
            raise exceptions.NotAuthenticated("Writing needs an API key with the write scope.")
        if not api_key.can_write:
            raise exceptions.PermissionDenied("This API key may only read; writing needs the write scope.")
        return True
