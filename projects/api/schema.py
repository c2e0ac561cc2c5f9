"""OpenAPI details: the problem document, and the error responses every operation can give."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "properties": {
        "type": {"type": "string", "description": "about:blank: the title is the HTTP status phrase."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The path of the request."},
        "code": {
            "type": "string",
            "description": "What went wrong, machine-readable and stable (the detail's wording may change): "
            "invalid, not_authenticated, authentication_failed, permission_denied, not_found, "
            "method_not_allowed, not_acceptable, conflict, precondition_failed, precondition_required, "
            "body_too_large, unsupported_media_type, unsupported_content_encoding, throttled, …",
        },
        "errors": {
            "type": "array",
            "description": "Validation errors, one per field (dotted path, [index] for list items).",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {
                        "type": "string",
                        "description": "Machine-readable: required, invalid, max_length, invalid_choice, …",
                    },
                },
                "required": ["field", "message", "code"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

ERRORS = {
    "400": "Invalid query parameter, value or body (each field named in `errors`).",
    "401": "The API key is missing (for writes) or invalid.",
    "403": "The API key may not do this (it has the read scope only).",
    "404": "No such resource, or not published (or a page past the last).",
    "409": "A project with this slug exists already.",
    "406": "The Accept header asks for a format this endpoint does not produce.",
    "412": "If-Match does not match the current ETag: the resource changed since it was read.",
    "413": "The body is larger than the most accepted (5 MiB).",
    "414": "The request line is too long.",
    "415": "The body is not JSON, or is compressed (send it without a Content-Encoding).",
    "428": "If-Match is required to change an existing resource.",
    "429": "Too many requests for this key or address; see Retry-After.",
}
READ_ERRORS = ["400", "401", "404", "406", "414", "429"]
WRITE_ERRORS = ["400", "401", "403", "404", "406", "412", "413", "414", "415", "428", "429"]
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "description": "The ETag of the resource as you read it; required to change an existing resource.",
    "schema": {"type": "string"},
}


class ProblemAwareAutoSchema(AutoSchema):
    """drf-spectacular's schema, with one change: an operation's description is only ever the
    one written for it (``extend_schema(description=...)``), never a view's or a mixin's
    docstring, which is written for the people reading the code."""

    def get_description(self) -> str:
        return ""


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "projects.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key issued in the admin: `Authorization: Bearer sdg_…`.",
        }

    def get_security_requirement(self, auto_schema):
        # Keys are optional for reads: list "no key" as an alternative.
        return [{self.name: []}, {}]


def add_common_responses(result, generator, request, public):
    """Add the problem document and the error responses to every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "put", "patch", "post", "delete"}:
                continue
            codes = READ_ERRORS if method == "get" else WRITE_ERRORS
            responses = operation.setdefault("responses", {})
            if method == "post":
                codes = [*codes, "409"]
            for code in codes:
                content = problem
                if code == "414":  # answered by gunicorn before Django sees the request
                    content = {"text/html": {"schema": {"type": "string"}}}
                responses.setdefault(code, {"description": ERRORS[code], "content": content})
            if method == "get" and "200" in responses:
                responses.setdefault("304", {"description": "Not modified (If-None-Match matched the ETag)."})
            if method in {"put", "patch", "delete"}:
                operation.setdefault("parameters", []).append(IF_MATCH)
            if method == "put" and path.endswith("{code}"):
                responses["201"] = {**responses["200"], "description": "Created: the criterion was missing."}
    for name, component in schemas.items():
        # Request bodies are closed: an unknown key is an error, never silently dropped.
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
