"""A test client that checks every answer against the API's own OpenAPI schema: each 200/201
JSON body from /api/v1/ must validate against the response schema of its operation (OpenAPI
3.0 read as JSON Schema, with the formats the schema names checked)."""

import gzip
import io
import json
import re
from datetime import date, datetime
from urllib.parse import urlsplit

import brotli
import jsonschema
import zstandard
from rest_framework.test import APIClient

DECODERS = {
    "br": brotli.decompress,
    "gzip": gzip.decompress,
    "zstd": lambda body: zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)).read(),
}


def _as_json_schema(node):
    """OpenAPI 3.0 schema objects as JSON Schema: "nullable: true" becomes "or null"."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri", raises=ValueError)
def _is_uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


class OpenApi:
    """The API's own OpenAPI document, used to validate the bodies the API returns."""

    def __init__(self, document: dict):
        self.document = document
        self.components = _as_json_schema(document.get("components", {}))
        self.routes = []
        for template, operations in document["paths"].items():
            pattern = re.escape(template)
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
            self.routes.append((template.count("{"), re.compile(pattern), template, operations))
        self.routes.sort(key=lambda route: route[0])
        self.validated = 0
        self._validators: dict = {}

    def template(self, method: str, path: str) -> str:
        for _count, pattern, template, operations in self.routes:
            if pattern.fullmatch(path) and method.lower() in operations:
                return template
        raise AssertionError(f"{method} {path} is not an operation of the OpenAPI schema")

    def operation(self, method: str, path: str) -> dict:
        return self.document["paths"][self.template(method, path)][method.lower()]

    def response_schema(self, method: str, path: str, status: int, content_type: str) -> dict | None:
        responses = self.operation(method, path)["responses"]
        assert str(status) in responses, f"{method} {path}: status {status} is not documented"
        content = responses[str(status)].get("content", {})
        media = content.get(content_type)
        if media is None:
            raise AssertionError(f"{method} {path} {status}: {content_type} not documented: {list(content)}")
        return media.get("schema")

    def validate(self, method: str, path: str, status: int, content_type: str, body) -> None:
        key = (method.lower(), self.template(method, path), status, content_type)
        if key not in self._validators:
            schema = self.response_schema(method, path, status, content_type)
            assert schema is not None, f"{method} {path} {status}: no schema"
            root = {**_as_json_schema(schema), "components": self.components}
            self._validators[key] = jsonschema.Draft202012Validator(root, format_checker=FORMATS)
        self._validators[key].validate(body)
        self.validated += 1


class CheckedAPIClient(APIClient):
    """APIClient that validates every 200/201 JSON body from /api/v1/ against the OpenAPI schema."""

    openapi: OpenApi | None = None

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        if self.openapi is not None:
            self._check(response)
        return response

    def _check(self, response) -> None:
        path = response.request["PATH_INFO"]
        method = response.request["REQUEST_METHOD"].lower()
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        if (
            response.status_code not in (200, 201)
            or content_type != "application/json"
            or not path.startswith("/api/v1/")
            or path.startswith("/api/v1/schema/")
            or getattr(response, "streaming", False)
        ):
            return
        body = response.content
        if response.get("Content-Encoding"):  # checked as the client reads it, decoded
            body = DECODERS[response["Content-Encoding"]](body)
        self.openapi.validate(method, path, response.status_code, content_type, json.loads(body))


def make_client(openapi: OpenApi, key: str | None = None) -> CheckedAPIClient:
    client = CheckedAPIClient()
    client.openapi = openapi
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client
