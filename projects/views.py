"""Operational endpoints."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers, 503 otherwise: what a load balancer needs to know."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def floor(request):
    """A constant response through the whole middleware stack: the benchmarks' floor (enabled by
    BENCH_FLOOR=1 only)."""
    return HttpResponse(b"ok\n", content_type="text/plain")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    """400 outside a view (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE): a problem document for
    the API, Django's plain page for everything else."""
    if _is_api(request):
        from projects.api.errors import problem_response

        return problem_response(request, 400, "The request is too large or malformed.")
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    """404: a problem document for the API, the public 404 page for everything else."""
    if _is_api(request):
        from projects.api.errors import problem_response

        return problem_response(request, 404, "No such resource. The API's paths are listed at /api/docs/.")
    from projects.web.views import not_found

    return not_found(request, exception)


def server_error(request):
    """500: a problem document for the API, Django's plain page for everything else."""
    if _is_api(request):
        from projects.api.errors import problem_response

        return problem_response(request, 500, "Something went wrong on our side; it has been logged.")
    return defaults.server_error(request)
