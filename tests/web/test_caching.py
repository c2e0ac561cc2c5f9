"""HTTP caching: validators and max-age on public pages, and never a stale score."""

import pytest

from projects.models import Assessment, Project
from projects.services.ratings import assessment_save
from tests.support.actors import publish_as_reviewer, withdraw_as_reviewer
from tests.support.builders import make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db
PAGES = [
    "/en/",
    "/ja/projects/alpha/",
    "/en/methodology/",
    "/en/compare/?p=alpha&p=beta",
    "/en/operators/",
    "/en/open-data/",
    "/en/projects/alpha/badge.svg",
]


@pytest.fixture
def projects(db):
    make_project("alpha", name="Alpha")
    make_project("beta", name="Beta")


@pytest.mark.parametrize("path", PAGES)
def test_public_pages_send_etag_last_modified_and_cache_control(client, projects, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]


@pytest.mark.parametrize("path", PAGES)
def test_a_matching_if_none_match_gets_304(client, projects, path):
    etag = client.get(path)["ETag"]
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""


def test_each_language_has_its_own_etag(client, projects):
    assert client.get("/en/projects/alpha/")["ETag"] != client.get("/ja/projects/alpha/")["ETag"]


def _net_score_on_page(client, path="/en/projects/alpha/") -> str:
    return page(client.get(path)).find("section", class_="score-card").find("dd", class_="big").clean_text


def test_a_score_change_shows_at_once_on_cached_pages_when_it_is_published(client, projects):
    before_etag = client.get("/en/projects/alpha/")["ETag"]
    before = _net_score_on_page(client)
    client.get("/en/")  # fill the server-side page cache too
    assessment = Assessment.objects.get(project__slug="alpha", criterion__code="S9.1")
    assessment.level = 4
    assessment_save(assessment)
    # An analyst's edit changes the working card only: the public still sees the published one.
    assert _net_score_on_page(client) == before

    publish_as_reviewer(project=Project.objects.get(slug="alpha"), note="S9.1 re-rated.")

    response = client.get("/en/projects/alpha/", HTTP_IF_NONE_MATCH=before_etag)
    assert response.status_code == 200
    assert response["ETag"] != before_etag
    assert _net_score_on_page(client) != before
    new_score = Project.objects.get(slug="alpha").published_score.net_score
    assert f"{new_score:.1f}" in page(client.get("/en/")).find("table", class_="rankings").clean_text


def test_a_cached_page_is_served_without_rendering_again(client, projects, django_assert_max_num_queries):
    client.get("/en/operators/")
    with django_assert_max_num_queries(3):  # only the freshness check
        response = client.get("/en/operators/")
    assert b"Alpha" in response.content


def test_unpublishing_removes_the_project_from_cached_lists(client, projects):
    assert b"Beta" in client.get("/en/").content
    withdraw_as_reviewer(project=Project.objects.get(slug="beta"), note="Withdrawn.")
    assert b"Beta" not in client.get("/en/").content
    assert client.get("/en/projects/beta/").status_code == 404


def test_error_pages_are_not_cached(client, projects):
    response = client.get("/en/?grade=Q")
    assert response.status_code == 400
    assert "ETag" not in response
