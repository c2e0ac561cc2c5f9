"""Operational endpoints."""

from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from projects.cache_backend import cache_problem


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers, 503 otherwise: what a load balancer needs to know.

    A cache that cannot be reached makes the service slower, not unavailable (every answer is
    computed uncached, rate limits are not enforced): still 200, so that the balancer keeps the
    instance, with ``"status": "degraded"`` and the failing component for monitoring to alert on.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    problem = cache_problem(cache)
    if problem is not None:
        return JsonResponse({"status": "degraded", "database": "ok", "cache": problem})
    return JsonResponse({"status": "ok", "database": "ok"})


@require_safe
def favicon(request):
    """/favicon.ico, which browsers and crawlers ask for whatever the page says: the site's icon."""
    response = HttpResponsePermanentRedirect(static("web/icon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def floor(request):
    """A constant response through the whole middleware stack: the benchmarks' floor (enabled by
    BENCH_FLOOR=1 only)."""
    return HttpResponse(b"ok\n", content_type="text/plain")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    """400 outside a view, or 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE: a problem document
    for the API, Django's plain page for everything else."""
    too_large = isinstance(exception, RequestDataTooBig)
    if _is_api(request):
        from projects.api.errors import problem_response

        if too_large:
            return problem_response(request, 413, body_too_large_detail(), code="body_too_large")
        return problem_response(request, 400, "The request is malformed.", code="malformed_request")
    response = defaults.bad_request(request, exception)
    if too_large:
        response.status_code = 413  # the same page; its reason phrase follows the status
    return response


def body_too_large_detail() -> str:
    from django.conf import settings

    return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, the most accepted."


def unsupported_encoding(request, encoding: str):
    """415 for a request body sent with a Content-Encoding (gzip, br…): bodies are read as sent."""
    detail = f"Content-Encoding {encoding[:40]} is not accepted: send the body uncompressed."
    if _is_api(request):
        from projects.api.errors import problem_response

        return problem_response(request, 415, detail, code="unsupported_content_encoding")
    return HttpResponse(detail, status=415, content_type="text/plain; charset=utf-8")


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
