"""Drafts never leak: not to anonymous clients, not to read keys, on no endpoint."""

import csv
import io
import json

import pytest

from .conftest import DRAFT_SLUGS, PUBLISHED_SLUGS, assert_problem, slugs

pytestmark = pytest.mark.django_db

READERS = ["anon", "reader"]
DRAFT_URLS = [
    "/api/v1/projects/draft-secret",
    "/api/v1/projects/draft-secret/assessments",
    "/api/v1/projects/draft-secret/assessments/S7.1",
    "/api/v1/projects/draft-secret/scores",
    "/api/v1/projects/lunar-draft",
    "/api/v1/projects/lunar-draft/scores",
]


@pytest.fixture(params=READERS)
def outsider(request, catalogue):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("url", DRAFT_URLS)
def test_a_draft_is_404_to_anonymous_clients_and_read_keys(outsider, url):
    body = assert_problem(outsider.get(url), 404)
    assert "draft" not in json.dumps(body).replace(url, "")


@pytest.mark.parametrize("url", DRAFT_URLS)
def test_a_draft_is_readable_with_a_write_key(writer, catalogue, url):
    assert writer.get(url).status_code == 200


def test_a_draft_404_is_the_same_as_for_a_project_that_does_not_exist(anon, catalogue):
    draft = anon.get("/api/v1/projects/draft-secret/scores").json()
    missing = anon.get("/api/v1/projects/no-such-thing/scores").json()
    assert {k: v for k, v in draft.items() if k != "instance"} == {
        k: v for k, v in missing.items() if k != "instance"
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?target_body=moon",
        "?resource=water_ice",
        "?q=ice",
        "?q=secretly",
        "?operator=lunar-co",
        "?ordering=-net_score",
        "?grade=A",
        "?page_size=200",
    ],
)
def test_drafts_are_absent_from_project_lists(outsider, query):
    listed = slugs(outsider.get(f"/api/v1/projects{query}"))
    assert not set(listed) & set(DRAFT_SLUGS)


def test_drafts_are_not_counted_in_the_project_list(outsider):
    assert outsider.get("/api/v1/projects").json()["count"] == len(PUBLISHED_SLUGS)


@pytest.mark.parametrize("client_name", ["anon", "reader", "writer"])
def test_drafts_are_absent_from_rankings(request, catalogue, client_name):
    client = request.getfixturevalue(client_name)
    response = client.get("/api/v1/rankings?page_size=200")
    assert slugs(response) == ["alpha", "epsilon", "beta", "gamma"]
    assert [item["rank"] for item in response.json()["results"]] == [1, 2, 3, 4]


def test_drafts_are_absent_from_sync(outsider):
    assert sorted(slugs(outsider.get("/api/v1/sync/projects?page_size=1000"))) == sorted(PUBLISHED_SLUGS)


def test_operators_count_published_projects_only(outsider):
    operators = {
        item["slug"]: item["project_count"] for item in outsider.get("/api/v1/operators").json()["results"]
    }
    assert operators == {"asteroid-ventures": 1, "comet-works": 1, "lunar-co": 2, "red-planet-agency": 1}
    assert outsider.get("/api/v1/operators/lunar-co").json()["project_count"] == 2
    assert_problem(outsider.get("/api/v1/operators/hidden-lab"), 404)


def test_operators_count_drafts_for_write_keys(writer, catalogue):
    operators = {
        item["slug"]: item["project_count"] for item in writer.get("/api/v1/operators").json()["results"]
    }
    assert operators["lunar-co"] == 3
    assert operators["hidden-lab"] == 1


def test_drafts_are_absent_from_the_json_export(outsider):
    response = outsider.get("/api/v1/export/projects.json")
    assert response.status_code == 200
    document = json.loads(b"".join(response.streaming_content))
    assert [project["slug"] for project in document["projects"]] == sorted(PUBLISHED_SLUGS)
    assert "Hidden Lab" not in json.dumps(document)


def test_drafts_are_absent_from_the_json_export_even_for_write_keys(writer, catalogue):
    document = json.loads(b"".join(writer.get("/api/v1/export/projects.json").streaming_content))
    assert [project["slug"] for project in document["projects"]] == sorted(PUBLISHED_SLUGS)


def test_drafts_are_absent_from_the_csv_export(outsider):
    text = b"".join(outsider.get("/api/v1/export/scores.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["slug"] for row in rows] == sorted(PUBLISHED_SLUGS)
    assert "Hidden Lab" not in text


def test_drafts_are_absent_from_the_csv_export_even_for_write_keys(writer, catalogue):
    text = b"".join(writer.get("/api/v1/export/scores.csv").streaming_content).decode()
    assert [row["slug"] for row in csv.DictReader(io.StringIO(text))] == sorted(PUBLISHED_SLUGS)


def test_filters_do_not_reveal_an_operator_that_has_only_drafts(outsider):
    # "hidden-lab" (FR) runs only a draft: to outsiders it must look like no operator at all.
    unknown = outsider.get("/api/v1/projects?operator=no-such-operator")
    hidden = outsider.get("/api/v1/projects?operator=hidden-lab")
    assert hidden.status_code == unknown.status_code == 400
    body = assert_problem(outsider.get("/api/v1/projects?operator_country=XX"), 400)
    assert "FR" not in body["errors"][0]["message"]
