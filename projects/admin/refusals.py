"""The admin's refusals in the admin's look: a login locked out by django-axes (429) and a page
a signed-in staff member may not open (403).

Both are rendered with the admin site's own context (header, title, language selector), so that
someone refused still knows where they are, what happened and what to do next. The status codes
stay those of the refusal: AXES_HTTP_RESPONSE_CODE (429) and 403.
"""

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults


def _admin_context(request, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the login page's refusal after too many failures, saying when a new
    try is possible and whom to ask. Each failed try while locked out starts the wait again
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT, on by default), so the time is counted from
    now."""
    from axes.helpers import get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    minutes = None
    retry_at = None
    if cool_off:
        minutes = max(1, round(cool_off.total_seconds() / 60))
        retry_at = timezone.localtime(timezone.now() + cool_off)
    context = {
        **_admin_context(request, _("Too many failed logins")),
        "failure_limit": get_failure_limit(request, credentials),
        "cool_off_minutes": minutes,
        "retry_at": retry_at,
    }
    response = TemplateResponse(
        request, "admin/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
    return response.render()


def _is_admin(request) -> bool:
    try:
        prefix = reverse("admin:index")
    except NoReverseMatch:  # pragma: no cover - the admin is always mounted here
        return False
    return request.path.startswith(prefix)


def permission_denied(request, exception=None):
    """handler403: in the admin, a page in its look naming who is signed in and where to go;
    elsewhere Django's own."""
    if not _is_admin(request) or not getattr(request, "user", None) or not request.user.is_active:
        return defaults.permission_denied(request, exception)
    if not request.user.is_staff:
        return defaults.permission_denied(request, exception)
    context = _admin_context(request, _("You may not open this page"))
    response = TemplateResponse(request, "admin/403.html", context, status=403)
    return response.render()
