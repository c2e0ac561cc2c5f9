"""One error format for the whole API: RFC 9457 problem details (application/problem+json)."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler

from projects.interchange.schema import field_errors
from projects.services.errors import Conflict, InvalidInput
from projects.services.profiles import RankingUnavailable

PROBLEM_JSON = "application/problem+json"


# A stable, machine-readable code per status, for errors raised without one of their own.
STATUS_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    412: "precondition_failed",
    413: "body_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    428: "precondition_required",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


def problem(
    status: int, detail: str, *, instance: str = "", errors: list | None = None, code: str | None = None
) -> dict:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code or STATUS_CODES.get(status, "error"),
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


class RankingPending(exceptions.APIException):
    """A ranking under your own weights waits for the uncertainty run after a method release."""

    status_code = 503
    default_code = "unavailable"
    wait = 60  # Retry-After

    def __init__(self, waiting: int):
        super().__init__(
            f"{waiting} projects were published since the last uncertainty run (a method release); "
            "rankings under your own weights return when the run is done, in a few minutes."
        )


class ConflictError(exceptions.APIException):
    """A services' Conflict (services.errors), as the API answers it."""

    status_code = 409
    default_code = "conflict"


def problem_exception_handler(exc, context):
    """DRF's handler, with every error reshaped as a problem document; the services' refusals
    (services.errors) answered as the client's input (400) or a conflict (409)."""
    if isinstance(exc, InvalidInput):
        exc = exceptions.ValidationError(exc.errors)
    elif isinstance(exc, Conflict):
        exc = ConflictError(str(exc), exc.code)
    elif isinstance(exc, RankingUnavailable):
        exc = RankingPending(exc.waiting)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # a model's own check: still the client's input
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    if isinstance(exc, exceptions.ValidationError):
        errors = [
            {**error, "code": code["message"] if code["message"] not in ("", "None") else "invalid"}
            for error, code in zip(field_errors(exc.detail), field_errors(exc.get_codes()), strict=True)
        ]
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
        detail = f"The request has invalid fields: {fields}." if fields else "The request is invalid."
        if len(errors) == 1 and not errors[0]["field"]:
            detail = errors[0]["message"]
        body = problem(response.status_code, detail, instance=instance, errors=errors, code="invalid")
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        body = problem(response.status_code, str(detail), instance=instance, code=_code_of(code, response))
    response.data = body
    response.content_type = PROBLEM_JSON
    return response


def _code_of(code, response) -> str | None:
    """The exception's own code, unless it is a generic one (DRF's "error") or not one string."""
    if isinstance(code, str) and code not in ("error", "invalid"):
        return code
    return STATUS_CODES.get(response.status_code)


def problem_response(request, status: int, detail: str, *, code: str | None = None) -> JsonResponse:
    """A problem document outside DRF views (Django's 404 and 500 handlers for /api/, and the
    request checks before any view)."""
    return JsonResponse(
        problem(status, detail, instance=request.get_full_path(), code=code),
        status=status,
        content_type=PROBLEM_JSON,
    )
