"""Repeated visits to public pages are answered before sessions and URL resolving, exactly as
the page would be served now: same body and headers, the badge still embeddable, 304s, and a
publication visible at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Assessment, Project
from projects.services.ratings import assessment_save
from tests.support.actors import publish_as_reviewer
from tests.support.builders import all_rated, make_project

pytestmark = pytest.mark.django_db

SAME_HEADERS = ["Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Security-Policy"]


@pytest.fixture
def alpha(db):
    return make_project("alpha", name="Alpha", assessments=all_rated(3))


def visit(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/en/",
        "/ja/",
        "/en/projects/alpha/",
        "/ja/projects/alpha/",
        "/en/methodology/",
        "/en/rankings/custom/?sdg7=3&sdg9=1&sdg12=0&alpha=0.2",
        "/ja/feeds/publications.atom",
        "/en/projects/alpha/feed.atom",
    ],
)
def test_a_second_visit_is_the_same_page_for_one_query(client, alpha, url):
    first, first_queries = visit(client, url)
    second, second_queries = visit(client, url)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert [second.get(name) for name in SAME_HEADERS] == [first.get(name) for name in SAME_HEADERS]
    assert first_queries > second_queries == 1


def test_the_badge_stays_embeddable_when_answered_from_the_cache(client, alpha):
    for _ in range(2):
        response = client.get("/en/projects/alpha/badge.svg")
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert not response.has_header("X-Frame-Options")
    page = client.get("/en/projects/alpha/")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"] and page["X-Frame-Options"] == "DENY"


def test_if_none_match_on_a_cached_page_is_a_304(client, alpha):
    etag = client.get("/en/projects/alpha/")["ETag"]
    response, queries = visit(client, "/en/projects/alpha/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag and queries == 1


def test_a_publication_shows_at_once_on_a_cached_page(client, alpha):
    before = client.get("/en/projects/alpha/").content
    assessment = Assessment.objects.get(project=alpha, criterion__code="E2")
    assessment.level = 4
    assessment_save(assessment)
    assert client.get("/en/projects/alpha/").content == before  # a draft: not public
    publish_as_reviewer(project=Project.objects.get(pk=alpha.pk), note="Severe equity risk confirmed.")
    after = client.get("/en/projects/alpha/").content.decode()
    assert "Severe equity risk confirmed." in after and after != before.decode()


def test_pages_that_are_not_public_pages_are_not_kept(client, alpha):
    client.get("/en/projects/nope/")
    response, queries = visit(client, "/en/projects/nope/")
    assert response.status_code == 404 and queries > 1
