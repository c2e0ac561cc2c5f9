"""The API's answers in the details a client's HTTP stack relies on: bodies too large or
compressed, parameters that mean nothing where they are sent, cursors, languages, slugs in any
case, the schema's format, the exports' validators, CSV cells written as the JSON writes them,
indented JSON's own ETag, and a machine-readable code on every error."""

import base64
import csv
import gzip
import io
import json

import pytest
from django.test import override_settings

from projects import actors
from projects.models import Project
from projects.services.publication import project_withdraw
from tests.support.actors import reviewer_user

from .conftest import assert_problem, error_fields
from .test_writes_projects import record, snapshot

PROJECTS = "/api/v1/projects"


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Bodies -------------------------------------------------------------------------------


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_body_larger_than_the_limit_is_a_413_and_nothing_is_written(writer, published):
    body = json.dumps(record(summary="x" * 20_000)).encode()
    response = writer.generic("POST", PROJECTS, body, content_type="application/json")
    problem = assert_problem(response, 413)
    assert problem["code"] == "body_too_large"
    assert "10000 bytes" in problem["detail"]
    assert not Project.objects.filter(slug="hera-rover").exists()


def test_a_compressed_body_is_a_415_and_nothing_is_written(writer, published):
    before = snapshot("alpha")
    url = f"{PROJECTS}/alpha"
    body = gzip.compress(json.dumps({"name": "Zipped"}).encode())
    response = writer.generic(
        "PATCH",
        url,
        body,
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_IF_MATCH=writer.get(url)["ETag"],
    )
    problem = assert_problem(response, 415)
    assert problem["code"] == "unsupported_content_encoding"
    assert "gzip" in problem["detail"]
    assert snapshot("alpha") == before


# --- Parameters that mean nothing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/projects/alpha?page=2", "page"),
        ("/api/v1/projects/alpha?page_size=5", "page_size"),
        ("/api/v1/projects/alpha/assessments?page=2", "page"),  # the ratings are one list
        ("/api/v1/projects/alpha/assessments/S7.1?page=1", "page"),
        ("/api/v1/projects?cursor=abc", "cursor"),  # numbered pages, not cursors
        ("/api/v1/rankings?cursor=abc", "cursor"),
        ("/api/v1/operators?cursor=abc", "cursor"),
        ("/api/v1/operators/lunar-co?page=1", "page"),
        ("/api/v1/sync/projects?page=2", "page"),  # cursors, not numbered pages
        ("/api/v1/projects/alpha/scores?cursor=abc", "cursor"),
        ("/api/v1/export/scores.csv?page=1", "page"),
        ("/api/v1/export/projects.json?page_size=10", "page_size"),
    ],
)
def test_a_paging_parameter_where_nothing_is_paged_that_way_is_a_400_naming_it(
    anon, published, url, parameter
):
    problem = assert_problem(anon.get(url), 400)
    assert error_fields(problem) == {parameter}
    assert [error["code"] for error in problem["errors"]] == ["unknown_parameter"]


def test_a_tampered_cursor_is_a_plain_400_naming_the_cursor(anon, published):
    tampered = base64.b64encode(b"p=not-a-date&o=0").decode()
    problem = assert_problem(anon.get(f"/api/v1/sync/projects?cursor={tampered}"), 400)
    assert error_fields(problem) == {"cursor"}
    text = json.dumps(problem)
    assert "format" not in text and "YYYY" not in text and "not-a-date" not in problem["errors"][0]["message"]


# --- Language ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/projects/alpha", "/api/v1/projects/none-such", PROJECTS])
def test_the_api_answers_in_english_and_says_so_whatever_the_reader_prefers(anon, published, url):
    for _ in range(2):  # computed, then from the read cache
        response = anon.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        assert response["Content-Language"] == "en"
        assert "Accept-Language" not in response.get("Vary", "")
    if url.endswith("none-such"):
        assert assert_problem(response, 404)["title"] == "Not Found"


# --- Slugs ---------------------------------------------------------------------------------


def test_a_slug_differing_only_in_case_is_refused_through_the_api(writer, published):
    response = writer.post(PROJECTS, record(slug="ALPHA"), format="json")
    assert response.status_code == 409, response.content[:300]
    assert list(Project.objects.filter(slug__iexact="alpha").values_list("slug", flat=True)) == ["alpha"]


def test_a_slug_differing_only_in_case_is_refused_by_the_model_and_the_database(published):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    project = Project.objects.get(slug="beta")
    project.slug = "Alpha"
    with actors.acting(reviewer_user(), "shell"), pytest.raises(ValidationError) as refused:
        project.save()
    assert "slug" in refused.value.message_dict
    with transaction.atomic(), pytest.raises(IntegrityError):
        Project.objects.filter(slug="beta").update(slug="ALPHA")  # past the model: the index refuses


# --- The schema ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "content_type"),
    [("?format=json", "application/vnd.oai.openapi+json"), ("?format=yaml", "application/vnd.oai.openapi")],
)
def test_the_schema_honours_format_in_the_query(anon, query, content_type):
    response = anon.get(f"/api/v1/schema/{query}")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == content_type
    if query == "?format=json":
        assert json.loads(response.content)["openapi"].startswith("3.")


def test_an_unknown_schema_format_is_a_400_naming_it(anon):
    problem = json.loads(anon.get("/api/v1/schema/?format=xml").content)
    assert problem["status"] == 400 and error_fields(problem) == {"format"}


def test_the_schema_is_conditional(anon):
    first = anon.get("/api/v1/schema/?format=json")
    assert first["ETag"]
    again = anon.get("/api/v1/schema/?format=json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    yaml = anon.get("/api/v1/schema/?format=yaml")
    assert yaml["ETag"] != first["ETag"]  # other bytes, another tag


# --- Exports -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/export/projects.json", "/api/v1/export/scores.csv"])
def test_an_export_is_conditional_and_moves_with_a_publication(anon, published, url):
    first = anon.get(url)
    streamed(first)
    assert first["ETag"] and first["Last-Modified"]
    assert anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    with actors.acting(reviewer_user(), "shell"):
        project_withdraw(project=Project.objects.get(slug="beta"), note="Mission cancelled.")
    changed = anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert b"beta" not in streamed(changed).replace(b"alpha", b"")


def test_the_csv_writes_flags_and_times_as_the_json_does(anon, published):
    rows = list(csv.DictReader(io.StringIO(streamed(anon.get("/api/v1/export/scores.csv")).decode())))
    gamma = next(row for row in rows if row["slug"] == "gamma")
    api = anon.get("/api/v1/projects/gamma").json()
    debris = api["score"]["dimensions"]["debris"]
    assert gamma["debris_severe"] == json.dumps(debris["severe"]) == "true"
    assert gamma["equity_severe"] == "false"
    assert gamma["updated_at"] == api["updated_at"]
    assert gamma["updated_at"].endswith("Z")


# --- Indented JSON -------------------------------------------------------------------------


def test_indented_json_has_its_own_etag_which_if_match_still_accepts(writer, published):
    url = f"{PROJECTS}/alpha"
    compact = writer.get(url)
    indented = writer.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content != compact.content
    assert indented["ETag"] != compact["ETag"]
    assert (
        writer.get(
            url, HTTP_ACCEPT="application/json; indent=2", HTTP_IF_NONE_MATCH=compact["ETag"]
        ).status_code
        == 200
    )
    response = writer.patch(url, {"name": "Selene Renamed"}, format="json", HTTP_IF_MATCH=indented["ETag"])
    assert response.status_code == 200, response.content[:300]


# --- Error codes ---------------------------------------------------------------------------


def test_every_error_carries_a_stable_code(anon, writer, reader, published):
    url = f"{PROJECTS}/alpha"
    cases = {
        "invalid": anon.get(f"{PROJECTS}?grade=Z"),
        "authentication_failed": anon.get(PROJECTS, HTTP_AUTHORIZATION="Bearer sdg_000000000000_nope"),
        "permission_denied": reader.patch(url, {"name": "X"}, format="json", HTTP_IF_MATCH="*"),
        "not_found": anon.get(f"{PROJECTS}/none-such"),
        "method_not_allowed": anon.delete(url),
        "not_acceptable": anon.get(url, HTTP_ACCEPT="application/xml"),
        "precondition_required": writer.patch(url, {"name": "X"}, format="json"),
        "precondition_failed": writer.patch(url, {"name": "X"}, format="json", HTTP_IF_MATCH='"stale"'),
        "unsupported_media_type": writer.generic(
            "PATCH", url, b"name=X", content_type="text/plain", HTTP_IF_MATCH="*"
        ),
        "conflict": writer.post(PROJECTS, record(slug="alpha"), format="json"),
    }
    codes = {expected: json.loads(response.content).get("code") for expected, response in cases.items()}
    assert codes == {expected: expected for expected in cases}
    problem = json.loads(cases["invalid"].content)
    assert problem["errors"] == [
        {"field": "grade", "message": problem["errors"][0]["message"], "code": "invalid_choice"}
    ]
