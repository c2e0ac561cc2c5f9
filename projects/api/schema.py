"""OpenAPI details: the problem document, and the error responses every operation can give."""

import json

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from projects.methodology.rules import REQUIRED_PARAMETERS

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
    "403": "The API key may not do this (it has the read scope only), or not from this web page's "
    "origin (see CORS in the API's description).",
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
READ_ERRORS = ["400", "401", "403", "404", "406", "414", "429"]
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
                operation.setdefault("parameters", []).append(dict(IF_MATCH))
            if method == "put" and path.endswith("{code}"):
                responses["201"] = {**responses["200"], "description": "Created: the criterion was missing."}
    for name, component in schemas.items():
        # Request bodies are closed: an unknown key is an error, never silently dropped.
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


# ---------------------------------------------------------------------------------------------
# What the server does, said in the schema: security, headers, preconditions, required fields,
# the shapes of rating writes, parameters' limits, enum names for generated clients.

HEADERS = {
    "ETag": ("A strong tag of this representation; send it in If-None-Match or If-Match.", "string"),
    "Last-Modified": ("When what the answer shows last changed (HTTP date).", "string"),
    "Location": ("The address of the resource created.", "string"),
    "Retry-After": ("Seconds to wait before the next request.", "integer"),
    "RateLimit-Limit": ("Requests allowed in the window (RateLimit-Policy).", "integer"),
    "RateLimit-Remaining": ("Requests left in the window now.", "integer"),
    "RateLimit-Reset": ("Seconds until the window ends.", "integer"),
    "RateLimit-Policy": ('The limit and its window in seconds, e.g. "1000;w=3600".', "string"),
}
RATE_HEADERS = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"]
# Keys in a response component that some answers leave out: everything else is always there.
OPTIONAL_IN_RESPONSES = {"Problem": {"errors", "instance"}}
STALE_WRITES = ("/api/v1/projects/{slug}", "/api/v1/projects/{slug}/assessments/{code}")


def _header_refs(*names: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def agree_with_the_server(result, generator, request, public):
    """Postprocessing hook: the schema says what the server does (issue 14's list)."""
    components = result.setdefault("components", {})
    components["headers"] = {
        name: {"description": text, "schema": {"type": kind}} for name, (text, kind) in HEADERS.items()
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            _operation_agrees(path, method, operation)
    schemas = components.get("schemas", {})
    _responses_complete(schemas)
    _writes_as_accepted(schemas)
    _typed(schemas)
    _export_typed(result)
    _examples(result, schemas)
    _drop_orphans(result)
    return result


def _operation_agrees(path: str, method: str, operation: dict) -> None:
    # Reads need no key (one raises the rate and, with the write scope, shows drafts); writes do.
    operation["security"] = [] if method == "get" else [{"ApiKey": []}]
    for status, response in operation.get("responses", {}).items():
        if status == "414":
            continue
        headers = response.setdefault("headers", {})
        headers.update(_header_refs(*RATE_HEADERS))
        if status in ("200", "304") and method == "get":
            headers.update(_header_refs("ETag", "Last-Modified"))
        elif status in ("200", "201") and method in ("put", "patch", "post"):
            headers.update(_header_refs("ETag"))
        if status == "201":
            headers.update(_header_refs("Location"))
        if status == "429":
            headers.update(_header_refs("Retry-After"))
    for parameter in operation.get("parameters", []):
        _parameter_agrees(path, method, parameter)


def _parameter_agrees(path: str, method: str, parameter: dict) -> None:
    name, schema = parameter["name"], parameter.get("schema", {})
    if parameter["in"] == "header" and name == "If-Match":
        rated_maybe = path.endswith("{code}") and method == "put"  # rating a missing criterion: 201
        parameter["required"] = not rated_maybe
        if rated_maybe:
            parameter["description"] = (
                "The ETag of the rating as you read it: required when the criterion is rated already "
                "(428 without it), not needed to rate a missing one."
            )
        return
    if parameter["in"] != "query":
        return
    if name in ("operator", "operator_country"):
        schema.setdefault("items", {})["minLength"] = 1
        parameter["description"] = (
            parameter.get("description") or name.replace("_", " ")
        ) + ". Repeat for any of several; an empty value is a 400."
    if name == "operator_country":
        from .filters import country_choices

        schema["items"]["enum"] = [code for code, _label in country_choices()]
        parameter["description"] = "ISO 3166-1 alpha-2 code of the operator's country, e.g. JP. " + (
            "Repeat for any of several; an empty value is a 400."
        )
    if name == "q":
        schema.update({"minLength": 1, "maxLength": 200})
    if name == "ordering":
        values = schema.get("items", {}).get("enum", [])
        schema["items"]["x-enum-varnames"] = [
            value.lstrip("-").upper() + ("_DESC" if value.startswith("-") else "") for value in values
        ]


def _responses_complete(schemas: dict) -> None:
    """Every key a response always carries is required (generated models then type it as set)."""
    for name, component in schemas.items():
        if name.endswith("Request") or component.get("type") != "object" or "properties" not in component:
            continue
        optional = OPTIONAL_IN_RESPONSES.get(name, set())
        component["required"] = sorted(set(component["properties"]) - optional)


def _rating_variants(base: dict, prefix: str, extra_required: list[str]) -> dict[str, dict]:
    """A rating as the server accepts it, as three closed shapes: rated with grade A or B (a
    source link needed), rated with grade C or D, and not applicable (a justification, no level
    and no grade: null or left out, as a read gives them back)."""
    properties = base["properties"]
    evidence = {**properties["evidence"], "minLength": 1, "pattern": r"\S"}
    evidence.pop("default", None)
    rated = {
        **{key: properties[key] for key in extra_required},
        "rating": {"type": "integer", "minimum": 0, "maximum": 4},
        "not_applicable": {"type": "boolean", "enum": [False], "default": False},
        "evidence": evidence,
        "evidence_ja": properties["evidence_ja"],
    }
    source = {**properties["source_url"]}
    linked = {**source, "minLength": 1, "format": "uri"}
    linked.pop("default", None)
    return {
        f"{prefix}RatedWithSourceRequest": _closed(
            "Rated with evidence grade A or B: the source link is required.",
            {**rated, "evidence_grade": {"type": "string", "enum": ["A", "B"]}, "source_url": linked},
            [*extra_required, "rating", "evidence", "evidence_grade", "source_url"],
        ),
        f"{prefix}RatedRequest": _closed(
            "Rated with evidence grade C or D: a source link is optional.",
            {**rated, "evidence_grade": {"type": "string", "enum": ["C", "D"]}, "source_url": source},
            [*extra_required, "rating", "evidence", "evidence_grade"],
        ),
        f"{prefix}NotApplicableRequest": _closed(
            "Not applicable to this project: say why; no rating and no evidence grade.",
            {
                **{key: properties[key] for key in extra_required},
                "not_applicable": {"type": "boolean", "enum": [True]},
                "rating": {"type": "integer", "nullable": True, "enum": [None]},
                "evidence": evidence,
                "evidence_ja": properties["evidence_ja"],
                "evidence_grade": {"type": "string", "nullable": True, "enum": [None]},
                "source_url": source,
            },
            [*extra_required, "not_applicable", "evidence"],
        ),
    }


def _closed(description: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


PARAMETER_EXAMPLES = {
    "q": "oxygen",
    "operator": ["nasa"],
    "operator_country": ["JP"],
    "updated_since": "2026-11-24T09:30:00Z",
    "target_body": ["moon"],
    "ordering": ["-net_score"],
}
REQUEST_EXAMPLES = {
    "RatingWriteRatedWithSourceRequest": {
        "rating": 3,
        "evidence": "MOXIE made 122 g of oxygen on Mars over 16 runs (NASA, 2023).",
        "evidence_grade": "A",
        "source_url": "https://science.nasa.gov/mission/mars-2020-perseverance/",
    },
    "RatingWriteRatedRequest": {
        "rating": 2,
        "evidence": "Trade press reports a second test campaign; no data published.",
        "evidence_grade": "C",
    },
    "RatingWriteNotApplicableRequest": {
        "not_applicable": True,
        "evidence": "The rover never reaches orbit around the body, so no debris criterion applies.",
    },
    "PatchedProjectWriteRequest": {"summary": "An oxygen demonstrator on Mars, 2021–2023."},
}


def _examples(result: dict, schemas: dict) -> None:
    """Real values where a reader would otherwise see the framework's "string" placeholders."""
    for name, example in REQUEST_EXAMPLES.items():
        if name in schemas:
            schemas[name]["example"] = example
    for operations in result["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] in PARAMETER_EXAMPLES:
                    parameter["example"] = PARAMETER_EXAMPLES[parameter["name"]]


def _writes_as_accepted(schemas: dict) -> None:
    for name in ("ProjectWriteRequest", "PatchedProjectWriteRequest"):
        if name in schemas:  # a project's history comes only from its publications
            schemas[name]["properties"].pop("history", None)
    schemas.pop("HistoryRecordRequest", None)
    for name, prefix, extra in (
        ("AssessmentWriteRequest", "RatingWrite", []),
        ("AssessmentRecordRequest", "ProjectRating", ["criterion"]),
    ):
        if name not in schemas:
            continue
        variants = _rating_variants(schemas[name], prefix, extra)
        schemas.update(variants)
        schemas[name] = {
            "description": schemas[name].get("description", ""),
            "oneOf": [{"$ref": f"#/components/schemas/{variant}"} for variant in variants],
        }


FRACTION = {
    "type": "string",
    "pattern": r"^\d+(/\d+)?$",
    "description": 'An exact fraction or whole number, e.g. "1/2" or "20".',
}
TEXTS = {"$ref": "#/components/schemas/Texts"}


def _list_of(properties: dict, required: list[str]) -> dict:
    return {"type": "array", "items": {"type": "object", "properties": properties, "required": required}}


def _move(kind: str) -> dict:
    value = {"type": kind, "nullable": True}
    return {
        "type": "object",
        "description": "A value before and after a publication (null: none, or the first publication).",
        "properties": {"from": value, "to": value},
        "required": ["from", "to"],
    }


TYPED = {
    "Texts": {
        "type": "object",
        "description": "A text in English and Japanese.",
        "properties": {"en": {"type": "string"}, "ja": {"type": "string"}},
        "required": ["en", "ja"],
    },
    "MethodParameters": {
        "type": "object",
        "description": "Everything besides the criteria that a score is computed from (METHOD.md of the "
        "method page): α, the dimensions and their weights, risk bands, grades, caps, evidence weights.",
        "properties": {
            "title": TEXTS,
            "summary": TEXTS,
            "alpha": FRACTION,
            "coverage_threshold": FRACTION,
            "dimensions": _list_of(
                {
                    "key": {"type": "string"},
                    "kind": {"type": "string", "enum": ["impact", "risk"]},
                    "impact_weight": FRACTION,
                    "name": TEXTS,
                    "description": TEXTS,
                },
                ["key", "kind", "impact_weight", "name", "description"],
            ),
            "risk_levels": _list_of(
                {"key": {"type": "string"}, "below": {**FRACTION, "nullable": True}, "name": TEXTS},
                ["key", "below", "name"],
            ),
            "severe_rating": {"type": "integer", "minimum": 0, "maximum": 4},
            "grades": _list_of({"grade": {"type": "string"}, "min": FRACTION}, ["grade", "min"]),
            "caps": {"type": "object", "additionalProperties": {"type": "string"}},
            "evidence_quality": {"type": "object", "additionalProperties": FRACTION},
            "evidence_grades": {"type": "object", "additionalProperties": TEXTS},
            "confidence_levels": _list_of(
                {"key": {"type": "string"}, "min": FRACTION, "name": TEXTS}, ["key", "min", "name"]
            ),
        },
        # What the method rules require of every version, and the summary every version has.
        "required": [*REQUIRED_PARAMETERS, "summary"],
    },
    "RatingValue": {
        "description": 'A level 0–4, "n/a" (not applicable), or null (not assessed).',
        "nullable": True,
        "oneOf": [{"type": "integer", "minimum": 0, "maximum": 4}, {"type": "string", "enum": ["n/a"]}],
    },
    "ExportDocument": {
        "type": "object",
        "description": "The interchange format sdgscore.projects/1 (docs/interchange.md): every published "
        "project with its facts, ratings, score card and publication history; importable as it is.",
        "properties": {
            "format": {"type": "string", "enum": ["sdgscore.projects/1"]},
            "methodology": {"type": "string", "nullable": True, "description": "The current method version."},
            "projects": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "A project record: slug, name, operator, target_body, resources, phase, "
                    "launch_year, summary, summary_ja, links, origin, assessments, score, history.",
                    "properties": {
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "operator": {"type": "object"},
                        "target_body": {"$ref": "#/components/schemas/TargetBodyEnum"},
                        "assessments": {"type": "array", "items": {"type": "object"}},
                    },
                    "required": ["slug", "name", "operator", "target_body", "assessments"],
                },
            },
        },
        "required": ["format", "methodology", "projects"],
    },
    "TextMove": _move("string"),
    "NumberMove": _move("number"),
}


def _typed(schemas: dict) -> None:
    """Values the serializers leave as any JSON get their shapes."""
    schemas.update(TYPED)
    if "Methodology" in schemas:
        described = schemas["Methodology"]["properties"]["parameters"].get("description", "")
        schemas["Methodology"]["properties"]["parameters"] = {
            "allOf": [{"$ref": "#/components/schemas/MethodParameters"}],
            "description": described,
        }
    if "RatingMove" in schemas:
        for end in ("from", "to"):
            schemas["RatingMove"]["properties"][end] = {"$ref": "#/components/schemas/RatingValue"}
    if "Changes" in schemas:
        moves = schemas["Changes"]["properties"]
        for key in ("methodology", "status", "grade"):
            moves[key] = {"$ref": "#/components/schemas/TextMove"}
        moves["net"] = {"$ref": "#/components/schemas/NumberMove"}
        schemas.pop("Move", None)


def _export_typed(result: dict) -> None:
    operation = result["paths"].get("/api/v1/export/projects.json", {}).get("get")
    if operation is not None:
        media = operation["responses"]["200"]["content"]["application/json"]
        media["schema"] = {"$ref": "#/components/schemas/ExportDocument"}


def _drop_orphans(result: dict) -> None:
    """Components nothing refers to any more (the history records of project writes)."""
    schemas = result["components"]["schemas"]
    while True:
        text = json.dumps([result["paths"], schemas], default=str)
        orphans = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not orphans:
            return
        for name in orphans:
            schemas.pop(name)
