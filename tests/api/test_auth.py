"""API keys: Bearer authentication, hashed storage, revocation and expiry, scopes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import ApiKey, Project
from tests.support.actors import key_owner
from tests.support.openapi import make_client

from .conftest import assert_problem, full_ratings, slugs

pytestmark = pytest.mark.django_db

INVALID = "Invalid API key."


def test_the_key_string_is_nowhere_in_the_stored_row(read_key):
    api_key, key = read_key
    secret = key.removeprefix(f"sdg_{api_key.prefix}_")  # the secret may itself contain "_"
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    for value in row.values():
        assert key not in str(value)
        assert secret not in str(value)
    assert len(row["key_hash"]) == 64


def test_a_read_key_authenticates_and_records_its_use(reader, read_key, published):
    assert reader.get("/api/v1/projects").status_code == 200
    api_key = ApiKey.objects.get(pk=read_key[0].pk)
    assert api_key.last_used_at is not None


def test_an_unknown_well_formed_key_is_a_401(openapi, published):
    _, key = ApiKey.issue(owner=key_owner(), name="Soon deleted")
    ApiKey.objects.all().delete()
    body = assert_problem(make_client(openapi, key).get("/api/v1/projects"), 401)
    assert body["detail"] == INVALID


def test_a_key_with_a_wrong_secret_is_a_401(openapi, read_key, published):
    _, key = read_key
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    body = assert_problem(make_client(openapi, forged).get("/api/v1/projects"), 401)
    assert body["detail"] == INVALID


def test_a_revoked_key_is_refused_at_once_with_the_unknown_key_message(openapi, published):
    api_key, key = ApiKey.issue(owner=key_owner(), name="Revoked partner", scope="write")
    client = make_client(openapi, key)
    assert client.get("/api/v1/projects").status_code == 200
    api_key.revoke()
    response = client.get("/api/v1/projects")
    body = assert_problem(response, 401)
    assert body["detail"] == INVALID
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_key_is_refused_with_the_unknown_key_message(openapi, published):
    _, key = ApiKey.issue(
        owner=key_owner(), name="Expired partner", expires_at=timezone.now() - timedelta(seconds=1)
    )
    body = assert_problem(make_client(openapi, key).get("/api/v1/projects/alpha"), 401)
    assert body["detail"] == INVALID


def test_a_key_that_has_not_expired_yet_works(openapi, published):
    _, key = ApiKey.issue(
        owner=key_owner(), name="Valid partner", expires_at=timezone.now() + timedelta(days=1)
    )
    assert make_client(openapi, key).get("/api/v1/projects/alpha").status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer sdg_abc",
        "Bearer sdg_0123456789ab_tooshort",
        "Bearer two words",
        "Token sdg_0123456789ab_" + "a" * 43,
        "Basic dXNlcjpwYXNz",
        "sdg_0123456789ab_" + "a" * 43,
        "Bearer sdg_0123456789ab_" + "é" * 43,
    ],
)
def test_a_malformed_authorization_header_is_a_401_with_www_authenticate(anon, published, header):
    response = anon.get("/api/v1/projects", HTTP_AUTHORIZATION=header)
    body = assert_problem(response, 401)
    assert body["detail"] == INVALID
    assert response["WWW-Authenticate"] == 'Bearer realm="sdgscore"'


def test_a_bad_key_is_refused_even_where_no_key_is_needed(anon, published):
    # Reads need no key, but a wrong one is not silently treated as none.
    response = anon.get("/api/v1/methodologies", HTTP_AUTHORIZATION="Bearer sdg_nope")
    assert_problem(response, 401)


# ---------------------------------------------------------------------------------------------
# Scopes


@pytest.mark.parametrize("client_name", ["anon", "reader"])
def test_anonymous_and_read_keys_list_published_projects_only(request, catalogue, client_name):
    client = request.getfixturevalue(client_name)
    assert sorted(slugs(client.get("/api/v1/projects?page_size=200"))) == sorted(catalogue)


def test_write_keys_also_see_drafts(writer, catalogue):
    listed = slugs(writer.get("/api/v1/projects?page_size=200"))
    assert sorted(listed) == sorted([*catalogue, "draft-secret", "lunar-draft"])
    detail = writer.get("/api/v1/projects/draft-secret")
    assert detail.status_code == 200
    assert detail.json()["state"] == "draft"


def new_record(slug="new-project"):
    return {
        "slug": slug,
        "name": "New Project",
        "operator": {"name": "Lunar Co", "country": "JP", "kind": "company"},
        "target_body": "moon",
        "resources": ["regolith"],
        "phase": "concept",
        "launch_year": 2031,
        "summary": "New.",
        "links": [],
        "assessments": full_ratings(1),
    }


RATING = {
    "rating": 3,
    "evidence": "Checked.",
    "evidence_grade": "A",
    "source_url": "https://example.org/evidence",
}
WRITES = [
    ("post", "/api/v1/projects", new_record()),
    ("put", "/api/v1/projects/alpha", {**new_record("alpha"), "name": "Overwritten"}),
    ("patch", "/api/v1/projects/alpha", {"name": "Overwritten"}),
    ("put", "/api/v1/projects/alpha/assessments/S7.2", RATING),
    ("put", "/api/v1/projects/delta/assessments/S7.2", RATING),
    ("delete", "/api/v1/projects/alpha/assessments/S7.1", None),
]
WRITE_IDS = [f"{method} {url}" for method, url, _ in WRITES]


def state_of_the_data() -> list:
    return list(
        Project.objects.order_by("slug").values_list("slug", "name", "current_score_id", "assessments__level")
    )


@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=WRITE_IDS)
def test_anonymous_writes_are_401_and_change_nothing(anon, published, method, url, body):
    before = state_of_the_data()
    response = getattr(anon, method)(url, body, format="json", HTTP_IF_MATCH="*")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert state_of_the_data() == before


@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=WRITE_IDS)
def test_read_key_writes_are_403_and_change_nothing(reader, published, method, url, body):
    before = state_of_the_data()
    response = getattr(reader, method)(url, body, format="json", HTTP_IF_MATCH="*")
    assert_problem(response, 403)
    assert state_of_the_data() == before


@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=WRITE_IDS)
def test_write_key_writes_succeed(writer, published, method, url, body):
    response = getattr(writer, method)(url, body, format="json", HTTP_IF_MATCH="*")
    assert response.status_code in {"post": (201,), "delete": (204,)}.get(method, (200, 201))
