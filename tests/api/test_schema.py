"""The OpenAPI schema at /api/v1/schema/ and the interactive docs at /api/docs/.

Every 200/201 JSON body the other tests receive is validated against this schema by the test
client (conftest.CheckedAPIClient); the tests here check the schema itself, and name the two
operations whose bodies once disagreed with it (the cursor page, the 201 of a new rating).
"""

import re
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema

from .conftest import OPENAPI_JSON, PROBLEM_JSON

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/projects": {"get", "post"},
    "/api/v1/projects/{slug}": {"get", "put", "patch"},
    "/api/v1/projects/{slug}/assessments": {"get"},
    "/api/v1/projects/{slug}/assessments/{code}": {"get", "put", "delete"},
    "/api/v1/projects/{slug}/scores": {"get"},
    "/api/v1/operators": {"get"},
    "/api/v1/operators/{slug}": {"get"},
    "/api/v1/methodologies": {"get"},
    "/api/v1/methodologies/{version}": {"get"},
    "/api/v1/rankings": {"get"},
    "/api/v1/profiles": {"get", "post"},
    "/api/v1/profiles/{id}": {"get", "put", "delete"},
    "/api/v1/profiles/{id}/rankings": {"get"},
    "/api/v1/profiles/{id}/projects/{slug}": {"get"},
    "/api/v1/webhooks": {"get", "post"},
    "/api/v1/webhooks/{id}": {"get", "patch", "delete"},
    "/api/v1/webhooks/{id}/rotate-secret": {"post"},
    "/api/v1/webhooks/{id}/deliveries": {"get"},
    "/api/v1/webhooks/{id}/deliveries/{delivery}": {"get"},
    "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver": {"post"},
    "/api/v1/sync/projects": {"get"},
    "/api/v1/export/projects.json": {"get"},
    "/api/v1/export/scores.csv": {"get"},
}
PROJECT_FILTERS = {
    "target_body",
    "resource",
    "phase",
    "operator",
    "operator_country",
    "grade",
    "status",
    "debris_level",
    "equity_level",
    "severe",
    "debris_severe",
    "equity_severe",
    "net_score_min",
    "net_score_max",
    "launch_year_min",
    "launch_year_max",
    "updated_since",
    "q",
    "ordering",
    "page",
    "page_size",
}
HTTP_METHODS = {"get", "put", "patch", "post", "delete"}


def test_the_schema_is_valid_openapi_3(openapi_document):
    assert openapi_document["openapi"].startswith("3.")
    validate_schema(openapi_document)


def test_the_schema_is_served_as_yaml_by_default_too(anon, openapi_document):
    response = anon.get("/api/v1/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["paths"].keys() == openapi_document["paths"].keys()


def test_the_schema_lists_every_path_and_method(openapi_document):
    documented = {
        path: {method for method in operations if method in HTTP_METHODS}
        for path, operations in openapi_document["paths"].items()
    }
    assert documented == PATHS


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/rankings"])
def test_project_lists_document_every_filter(openapi_document, path):
    parameters = {p["name"] for p in openapi_document["paths"][path]["get"].get("parameters", [])}
    assert parameters >= PROJECT_FILTERS


def test_every_operation_documents_its_errors_as_problem_documents(openapi_document):
    for path, operations in openapi_document["paths"].items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            for code in ("400", "401", "406", "429"):
                content = operation["responses"][code]["content"]
                assert content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}, (
                    method,
                    path,
                    code,
                )
    problem = openapi_document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


def test_writes_document_412_and_428(openapi_document):
    for path, operations in openapi_document["paths"].items():
        for method in ("put", "patch", "delete"):
            if method in operations:
                assert {"412", "428"} <= set(operations[method]["responses"]), (method, path)


def test_page_numbered_lists_document_the_404_of_a_page_past_the_end(openapi_document):
    for path in ("/api/v1/projects", "/api/v1/rankings", "/api/v1/operators", "/api/v1/methodologies"):
        assert "404" in openapi_document["paths"][path]["get"]["responses"], path


def test_the_score_card_schema_has_the_documented_shape(openapi_document):
    schemas = openapi_document["components"]["schemas"]
    card = schemas["ScoreCardSchema"]["properties"]
    assert {"methodology", "status", "confidence", "overall", "dimensions"} <= set(card)
    dimensions = schemas["DimensionsSchema"]["properties"]
    assert set(dimensions) == {"sdg7", "sdg9", "sdg12", "debris", "equity"}


def test_a_sync_page_matches_its_schema(anon, openapi, published):
    response = anon.get("/api/v1/sync/projects?page_size=2")
    assert response.status_code == 200
    openapi.validate("get", "/api/v1/sync/projects", 200, "application/json", response.json())


def test_a_new_rating_response_matches_its_schema(writer, openapi, published):
    url = "/api/v1/projects/delta/assessments/S7.2"
    body = {"rating": 2, "evidence": "x", "evidence_grade": "B", "source_url": "https://example.org/evidence"}
    response = writer.put(url, body, format="json")
    assert response.status_code == 201
    openapi.validate("put", url, 201, "application/json", response.json())


def test_the_client_validates_bodies_against_the_schema(anon, openapi, published):
    # The check every other test relies on: it does fail on a body that breaks the schema.
    with pytest.raises(jsonschema.ValidationError, match="required"):
        openapi.validate("get", "/api/v1/projects/alpha", 200, "application/json", {"slug": "alpha"})
    before = openapi.validated
    anon.get("/api/v1/projects/alpha")
    assert openapi.validated == before + 1


@pytest.mark.parametrize(
    ("path", "component"),
    [
        ("/api/v1/projects/alpha", "Project"),
        ("/api/v1/projects", "Project"),
        ("/api/v1/rankings", "RankedProject"),
        ("/api/v1/sync/projects", "SyncProject"),
    ],
)
def test_a_served_project_has_exactly_the_schemas_fields_in_its_order(
    anon, writer, openapi_document, published, path, component
):
    fields = list(openapi_document["components"]["schemas"][component]["properties"])
    for client in (anon, writer):
        body = client.get(path).json()
        for project in body.get("results", [body]):
            assert list(project) == fields


# ---------------------------------------------------------------------------------------------
# Docs


def test_the_docs_page_loads_only_local_scripts_and_styles(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=[\"']([^\"']+)[\"']", html)
    assert any(asset.endswith(".js") for asset in assets)
    assert any(asset.endswith(".css") for asset in assets)
    for asset in assets:
        parts = urlsplit(asset)
        assert not parts.scheme and not parts.netloc, asset
    assert not re.search(r"https?://(?!testserver)", html)
    assert not re.search(r"(?:src|href)=[\"']//", html)


def test_the_docs_assets_exist_as_static_files(anon):
    html = anon.get("/api/docs/").content.decode()
    for asset in re.findall(r"(?:src|href)=[\"']/static/([^\"']+)[\"']", html):
        assert finders.find(asset), asset


def test_the_docs_page_points_at_the_served_schema(anon):
    # The page loads its start-up script as a file (no inline script under the CSP) ...
    html = anon.get("/api/docs/").content.decode()
    assert 'src="/api/docs/?script="' in html
    # ... and that script reads the schema served here.
    assert '"/api/v1/schema/"' in anon.get("/api/docs/?script=").content.decode()


def test_the_json_schema_is_served_on_request(anon):
    response = anon.get("/api/v1/schema/", HTTP_ACCEPT=OPENAPI_JSON)
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "sdgscore partner API"
