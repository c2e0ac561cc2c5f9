"""One error format for the whole API: RFC 9457 problem details (application/problem+json)."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler

from projects.interchange.schema import field_errors
from projects.services.errors import Conflict, InvalidInput

PROBLEM_JSON = "application/problem+json"


def problem(status: int, detail: str, *, instance: str = "", errors: list | None = None) -> dict:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


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
        errors = field_errors(exc.detail)
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
        detail = f"The request has invalid fields: {fields}." if fields else "The request is invalid."
        if len(errors) == 1 and not errors[0]["field"]:
            detail = errors[0]["message"]
        body = problem(response.status_code, detail, instance=instance, errors=errors)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = problem(response.status_code, str(detail), instance=instance)
    response.data = body
    response.content_type = PROBLEM_JSON
    return response


def problem_response(request, status: int, detail: str) -> JsonResponse:
    """A problem document outside DRF views (Django's 404 and 500 handlers for /api/)."""
    return JsonResponse(
        problem(status, detail, instance=request.get_full_path()), status=status, content_type=PROBLEM_JSON
    )
