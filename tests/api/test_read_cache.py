"""The API read cache: repeated public reads are answered from the cache without going through
DRF, yet exactly as DRF would answer now — never stale after a publication, never for a write
key, never past a revocation, and counted against the client's rate like any request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Assessment, Project
from projects.services.ratings import assessment_save
from tests.support.actors import publish_as_reviewer

pytestmark = pytest.mark.django_db

DETAIL = "/api/v1/projects/alpha"
LIST = "/api/v1/projects?page_size=2&target_body=moon"
SAME_HEADERS = ["Content-Type", "ETag", "Last-Modified", "Cache-Control", "Vary"]


def queries_of(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, len(queries)


@pytest.mark.parametrize("url", [DETAIL, LIST, "/api/v1/rankings", "/api/v1/projects/alpha/scores"])
@pytest.mark.parametrize("who", ["anon", "reader"])
def test_a_repeated_public_read_is_answered_from_the_cache_identically(request, published, url, who):
    client = request.getfixturevalue(who)
    first, first_queries = queries_of(client, url)
    second, second_queries = queries_of(client, url)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert [second[name] for name in SAME_HEADERS] == [first[name] for name in SAME_HEADERS]
    assert first_queries > second_queries == 1  # the site generation; nothing else


def test_a_publication_shows_at_once(anon, published):
    before = anon.get(DETAIL).json()["score"]
    project = Project.objects.get(slug="alpha")
    assessment = Assessment.objects.get(project=project, criterion__code="S7.1")
    assessment.level = 0 if assessment.level else 4
    assessment_save(assessment)
    assert anon.get(DETAIL).json()["score"] == before  # a draft: the public card is unchanged
    publish_as_reviewer(project=project, note="Checked.")
    after = anon.get(DETAIL).json()["score"]
    assert after != before and after == Project.objects.get(slug="alpha").published_score.card


def test_a_write_key_is_never_answered_from_the_cache(writer, anon, published):
    anon.get(DETAIL)
    response, queries = queries_of(writer, DETAIL)
    assert response.json()["draft_score"] is not None  # what only write keys see
    assert queries > 1


def test_a_revoked_key_is_refused_at_once_even_for_a_cached_answer(read_key, reader, published):
    assert reader.get(DETAIL).status_code == 200
    assert reader.get(DETAIL).status_code == 200  # cached
    read_key[0].revoke()
    response = reader.get(DETAIL)
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"


def test_a_wrong_secret_with_a_known_prefix_is_refused_by_the_cached_path_too(read_key, openapi, published):
    from tests.support.openapi import make_client

    key = read_key[1]  # sdg_<12 hex>_<43 characters>
    assert make_client(openapi, key).get(DETAIL).status_code == 200  # cached now, key looked up
    forged = key[: len("sdg_") + 12 + 1] + ("A" if key[-43] != "A" else "B") * 43
    assert make_client(openapi, forged).get(DETAIL).status_code == 401


def test_cached_answers_count_against_the_key_rate(client_for, published):
    client = client_for("read", rate="3/minute")
    assert [client.get(DETAIL).status_code for _ in range(3)] == [200, 200, 200]
    throttled = client.get(DETAIL)
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) >= 1


def test_cached_answers_count_against_the_anonymous_rate(client_for, published, settings):
    settings.API_ANONYMOUS_RATE = "2/minute"
    client = client_for(None)
    assert [client.get(DETAIL).status_code for _ in range(3)] == [200, 200, 429]


def test_if_none_match_on_a_cached_answer_is_a_304(anon, published):
    etag = anon.get(DETAIL)["ETag"]
    response, queries = queries_of(anon, DETAIL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag and not response.content
    assert queries == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cache_can_be_turned_off(anon, published, settings, enabled):
    settings.RESPONSE_CACHE = enabled
    anon.get(DETAIL)
    # A change behind the service's back (no save, so the generation stays): only the cache hides it.
    Project.objects.filter(slug="alpha").update(name="Renamed behind its back")
    shown = anon.get(DETAIL).json()["name"]
    assert shown == ("Selene Ice Prospector" if enabled else "Renamed behind its back")
