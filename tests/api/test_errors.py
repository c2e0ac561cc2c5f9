"""Every error is an RFC 9457 problem document (application/problem+json)."""

import pytest

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_400_for_an_unknown_parameter(anon, published):
    body = assert_problem(anon.get("/api/v1/projects?colour=blue"), 400)
    assert body["title"] == "Bad Request"
    assert body["errors"] == [
        {"field": "colour", "message": body["errors"][0]["message"], "code": "unknown_parameter"},
    ]


def test_401_for_an_invalid_key(anon, published):
    assert assert_problem(anon.get("/api/v1/projects", HTTP_AUTHORIZATION="Bearer nope"), 401)["title"] == (
        "Unauthorized"
    )


def test_403_for_a_write_with_a_read_key(reader, published):
    response = reader.patch("/api/v1/projects/alpha", {"name": "X"}, format="json", HTTP_IF_MATCH="*")
    assert assert_problem(response, 403)["title"] == "Forbidden"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/no-such-project",
        "/api/v1/projects/no-such-project/assessments",
        "/api/v1/projects/no-such-project/assessments/S7.1",
        "/api/v1/projects/no-such-project/scores",
        "/api/v1/projects/alpha/assessments/X9.9",
        "/api/v1/operators/no-such-operator",
        "/api/v1/methodologies/9.9",
    ],
)
def test_404_for_an_unknown_slug_code_or_version(anon, published, url):
    assert assert_problem(anon.get(url), 404)["title"] == "Not Found"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nothing-here",
        "/api/v1/projects/alpha/nothing-here",
        "/api/v1/export/projects.xml",
        "/api/v2/projects",
        "/api/v1/projects/",
        "/api/",
    ],
)
def test_404_for_an_unknown_api_path(anon, published, url):
    assert assert_problem(anon.get(url), 404)["title"] == "Not Found"


def test_404_for_a_missing_rating_says_it_is_missing(anon, published):
    body = assert_problem(anon.get("/api/v1/projects/delta/assessments/S7.2"), 404)
    assert "missing" in body["detail"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("delete", "/api/v1/projects"),
        ("put", "/api/v1/projects"),
        ("delete", "/api/v1/projects/alpha"),
        ("post", "/api/v1/projects/alpha"),
        ("post", "/api/v1/rankings"),
        ("delete", "/api/v1/operators/lunar-co"),
        ("post", "/api/v1/export/projects.json"),
    ],
)
def test_405_for_a_method_the_resource_does_not_have(writer, published, method, url):
    response = getattr(writer, method)(url, {}, format="json")
    assert assert_problem(response, 405)["title"] == "Method Not Allowed"
    assert method.upper() not in response["Allow"]


@pytest.mark.parametrize(
    "url", ["/api/v1/projects", "/api/v1/projects/alpha", "/api/v1/export/projects.json"]
)
def test_406_for_an_accept_header_the_endpoint_cannot_satisfy(anon, published, url):
    response = anon.get(url, HTTP_ACCEPT="application/xml")
    assert assert_problem(response, 406)["title"] == "Not Acceptable"


@pytest.mark.parametrize(
    ("status", "scope", "method", "query", "headers"),
    [
        (400, None, "get", "?slug=alpha", {}),
        (401, None, "get", "", {"HTTP_AUTHORIZATION": "Bearer nope"}),
        (405, "write", "post", "", {}),
        (406, None, "get", "", {"HTTP_ACCEPT": "application/xml"}),
    ],
)
def test_errors_from_the_csv_export_are_problem_documents_too(
    client_for, published, status, scope, method, query, headers
):
    response = getattr(client_for(scope), method)(f"/api/v1/export/scores.csv{query}", **headers)
    assert_problem(response, status)


def test_429_from_the_csv_export_is_a_problem_document_too(client_for, published):
    limited = client_for("read", rate="1/minute")
    assert limited.get("/api/v1/export/scores.csv").status_code == 200
    assert_problem(limited.get("/api/v1/export/scores.csv"), 429)


def test_412_for_a_stale_if_match(writer, published):
    response = writer.patch("/api/v1/projects/alpha", {"name": "X"}, format="json", HTTP_IF_MATCH='"stale"')
    assert assert_problem(response, 412)["title"] == "Precondition Failed"


def test_415_for_a_text_plain_body(writer, published):
    response = writer.post("/api/v1/projects", "slug: x", content_type="text/plain")
    assert assert_problem(response, 415)["title"] == "Unsupported Media Type"


def test_415_for_a_form_encoded_rating(writer, published):
    response = writer.put(
        "/api/v1/projects/delta/assessments/S7.2",
        "rating=2&evidence=x&evidence_grade=B",
        content_type="application/x-www-form-urlencoded",
    )
    assert_problem(response, 415)


def test_400_for_a_body_that_is_not_json(writer, published):
    response = writer.post("/api/v1/projects", "{not json", content_type="application/json")
    assert assert_problem(response, 400)["title"] == "Bad Request"


def test_428_for_an_update_without_if_match(writer, published):
    response = writer.patch("/api/v1/projects/alpha", {"name": "X"}, format="json")
    assert assert_problem(response, 428)["title"] == "Precondition Required"


def test_429_when_the_rate_is_exceeded(client_for, published):
    client = client_for("read", rate="1/minute")
    client.get("/api/v1/projects")
    response = client.get("/api/v1/projects")
    assert assert_problem(response, 429)["title"] == "Too Many Requests"
    assert response["Retry-After"]


def test_problem_documents_name_the_request_path(anon, published):
    body = assert_problem(anon.get("/api/v1/projects/no-such-project"), 404)
    assert body["instance"] == "/api/v1/projects/no-such-project"
