"""Conditional GETs: ETag and Last-Modified on details and lists, 304 for an unchanged resource."""

import pytest
from django.db.models import Max
from django.utils.http import http_date

from projects.freshness import site_changed
from projects.interchange.importer import projects_import
from projects.models import Operator, Project
from tests.conftest import interchange, project_record
from tests.support.actors import publish_as_reviewer, reviewer_user

from .conftest import LUNAR, full_ratings, when

pytestmark = pytest.mark.django_db

READ_URLS = [
    "/api/v1/projects",
    "/api/v1/projects/alpha",
    "/api/v1/projects/alpha/assessments",
    "/api/v1/projects/alpha/assessments/S7.1",
    "/api/v1/projects/alpha/scores",
    "/api/v1/rankings",
    "/api/v1/sync/projects",
    "/api/v1/operators",
    "/api/v1/operators/lunar-co",
    "/api/v1/methodologies",
    "/api/v1/methodologies/1.0",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_reads_carry_an_etag_and_last_modified(anon, published, url):
    response = anon.get(url)
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response.get("Last-Modified", "missing").endswith("GMT"), response.get("Last-Modified")


@pytest.mark.parametrize("url", READ_URLS)
def test_if_none_match_with_the_etag_is_a_304_with_an_empty_body_and_the_same_etag(anon, published, url):
    tag = anon.get(url)["ETag"]
    response = anon.get(url, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == tag


@pytest.mark.parametrize("url", READ_URLS)
def test_if_none_match_with_another_etag_is_a_full_200(anon, published, url):
    response = anon.get(url, HTTP_IF_NONE_MATCH='"something-else"')
    assert response.status_code == 200
    assert response.content


def test_the_etag_is_stable_while_nothing_changes(anon, published):
    assert anon.get("/api/v1/projects/alpha")["ETag"] == anon.get("/api/v1/projects/alpha")["ETag"]


def test_the_project_last_modified_is_the_later_of_its_own_and_its_operators_change(anon, published):
    Operator.objects.update(updated_at=when(1))
    assert anon.get("/api/v1/projects/alpha")["Last-Modified"] == http_date(when(5).timestamp())
    Operator.objects.filter(slug="lunar-co").update(updated_at=when(9))
    site_changed()  # a bulk update moves the site generation itself (a save would, by signal)
    assert anon.get("/api/v1/projects/alpha")["Last-Modified"] == http_date(when(9).timestamp())


def test_the_list_last_modified_is_the_latest_change_in_the_whole_list(anon, published):
    # A change anywhere in the selection can move what a page holds, so the page is dated by all.
    newest = Project.objects.published().aggregate(newest=Max("updated_at"))["newest"]
    response = anon.get("/api/v1/projects?ordering=updated&page_size=2")  # beta (day 1), epsilon (day 2)
    assert response["Last-Modified"] == http_date(newest.timestamp())
    assert newest > when(2)


def test_if_modified_since_the_last_modification_is_a_304(anon, published):
    url = "/api/v1/projects?ordering=updated&page_size=2"
    last_modified = anon.get(url)["Last-Modified"]
    assert anon.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    earlier = http_date(when(1).timestamp())
    assert anon.get(url, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_the_etag_changes_when_a_new_score_is_published(anon, writer, published):
    before = anon.get("/api/v1/projects/alpha")
    writer_before = writer.get("/api/v1/projects/alpha")
    rating = writer.get("/api/v1/projects/alpha/assessments/S7.1")
    response = writer.put(
        "/api/v1/projects/alpha/assessments/S7.1",
        {
            "rating": 0,
            "evidence": "Re-assessed.",
            "evidence_grade": "A",
            "source_url": "https://example.org/evidence",
        },
        format="json",
        HTTP_IF_MATCH=rating["ETag"],
    )
    assert response.status_code == 200
    # The writer's representation (its draft_score) moved at once; the public score waits.
    assert writer.get("/api/v1/projects/alpha")["ETag"] != writer_before["ETag"]
    assert anon.get("/api/v1/projects/alpha").json()["score"] == before.json()["score"]
    publish_as_reviewer(project=Project.objects.get(slug="alpha"), note="Re-assessed S7.1.")
    after = anon.get("/api/v1/projects/alpha")
    assert after.json()["score"] != before.json()["score"]
    assert after["ETag"] != before["ETag"]
    assert anon.get("/api/v1/projects/alpha", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    for url in ("/api/v1/projects", "/api/v1/rankings", "/api/v1/projects/alpha/scores"):
        assert anon.get(url, HTTP_IF_NONE_MATCH=anon.get(url)["ETag"]).status_code == 304


def test_list_etags_change_when_a_listed_score_is_published(anon, writer, published):
    urls = ["/api/v1/projects", "/api/v1/rankings", "/api/v1/projects/alpha/scores"]
    rating = writer.get("/api/v1/projects/alpha/assessments/S7.1")
    writer.put(
        "/api/v1/projects/alpha/assessments/S7.1",
        {
            "rating": 1,
            "evidence": "Re-assessed.",
            "evidence_grade": "A",
            "source_url": "https://example.org/evidence",
        },
        format="json",
        HTTP_IF_MATCH=rating["ETag"],
    )
    written = {url: anon.get(url)["ETag"] for url in urls}
    # The score history is the list of publications: an unpublished write leaves it as it was.
    scores = "/api/v1/projects/alpha/scores"
    assert anon.get(scores, HTTP_IF_NONE_MATCH=written[scores]).status_code == 304
    publish_as_reviewer(project=Project.objects.get(slug="alpha"), note="Re-assessed S7.1.")
    for url in urls:
        assert anon.get(url, HTTP_IF_NONE_MATCH=written[url]).status_code == 200, url


def test_responses_vary_on_authorization_because_write_keys_see_more(anon, writer, catalogue):
    assert "Authorization" in anon.get("/api/v1/projects")["Vary"]
    assert anon.get("/api/v1/projects")["ETag"] != writer.get("/api/v1/projects")["ETag"]


def test_if_modified_since_does_not_hide_a_project_leaving_the_page(anon, writer, published):
    url = "/api/v1/rankings?page_size=2"
    first = anon.get(url)
    assert [item["slug"] for item in first.json()["results"]] == ["alpha", "epsilon"]
    tag = writer.get("/api/v1/projects/epsilon")["ETag"]
    lowered = {"assessments": full_ratings(0)}
    assert (
        writer.patch("/api/v1/projects/epsilon", lowered, format="json", HTTP_IF_MATCH=tag).status_code == 200
    )
    # Rankings follow the published cards: the write alone moves nothing the public sees.
    assert [item["slug"] for item in anon.get(url).json()["results"]] == ["alpha", "epsilon"]
    publish_as_reviewer(project=Project.objects.get(slug="epsilon"), note="Lowered.")
    now = anon.get(url)
    assert [item["slug"] for item in now.json()["results"]] == ["alpha", "beta"]  # epsilon dropped to 3rd
    again = anon.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200  # the page changed: a 304 would keep the stale page in caches


def test_if_modified_since_does_not_hide_a_changed_project_count(anon, published):
    url = "/api/v1/operators"
    first = anon.get(url)
    projects_import(
        interchange(project_record("new-lunar", operator=LUNAR)),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    counts = {item["slug"]: item["project_count"] for item in anon.get(url).json()["results"]}
    assert counts["lunar-co"] == 3
    assert anon.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200
