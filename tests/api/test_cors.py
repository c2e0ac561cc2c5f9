"""CORS: public reads from any site's pages; keyed requests and writes only from the origins
listed on the key; the badge embeddable by any page, one with COEP included."""

import pytest

from projects.models import ApiKey
from tests.support.actors import key_owner

DASHBOARD = "https://dashboard.example.org"
ELSEWHERE = "https://evil.example.net"


def preflight(client, url: str, origin: str, method: str, headers: str = ""):
    extra = {"HTTP_ACCESS_CONTROL_REQUEST_HEADERS": headers} if headers else {}
    return client.options(url, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method, **extra)


def keyed(client, scope: str, origins: str = DASHBOARD):
    _, key = ApiKey.issue(
        owner=key_owner(), name="Dashboard", scope=scope, throttle_rate="1000/hour", allowed_origins=origins
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_public_read_is_readable_from_any_origin_without_credentials(anon, published):
    response = anon.get("/api/v1/projects", HTTP_ORIGIN=ELSEWHERE)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ELSEWHERE
    assert "Access-Control-Allow-Credentials" not in response
    exposed = {name.strip().lower() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "last-modified", "ratelimit-remaining", "retry-after", "location"} <= exposed
    assert "origin" in response["Vary"].lower()


def test_the_preflight_of_a_public_read_is_answered(anon, published):
    response = preflight(anon, "/api/v1/projects", ELSEWHERE, "GET", "if-none-match")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ELSEWHERE
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "if-none-match" in response["Access-Control-Allow-Headers"]


def test_a_preflight_with_a_key_is_answered_only_for_an_origin_some_key_lists(anon, client_for, published):
    keyed(client_for(None), "write")
    listed = preflight(
        anon, "/api/v1/projects/alpha", DASHBOARD, "PATCH", "authorization, content-type, if-match"
    )
    assert listed["Access-Control-Allow-Origin"] == DASHBOARD
    unlisted = preflight(anon, "/api/v1/projects/alpha", ELSEWHERE, "PATCH", "authorization, content-type")
    assert "Access-Control-Allow-Origin" not in unlisted
    keyed_read = preflight(anon, "/api/v1/projects", ELSEWHERE, "GET", "authorization")
    assert "Access-Control-Allow-Origin" not in keyed_read


def test_a_keyed_read_is_readable_from_its_listed_origin_only(client_for, published):
    client = keyed(client_for(None), "read")
    assert client.get("/api/v1/projects").status_code == 200  # kept by the read cache
    listed = client.get("/api/v1/projects", HTTP_ORIGIN=DASHBOARD)
    assert listed.status_code == 200
    assert listed["Access-Control-Allow-Origin"] == DASHBOARD
    refused = client.get("/api/v1/projects", HTTP_ORIGIN=ELSEWHERE)
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    assert ELSEWHERE in refused.json()["detail"]


def test_a_write_from_an_origin_its_key_does_not_list_changes_nothing(client_for, published):
    keyed(client_for(None), "write", origins=ELSEWHERE)  # the attacker's origin, listed on another key
    client = keyed(client_for(None), "write")
    url = "/api/v1/projects/alpha"
    tag = client.get(url)["ETag"]
    response = client.patch(
        url, {"name": "Borrowed"}, format="json", HTTP_IF_MATCH=tag, HTTP_ORIGIN=ELSEWHERE
    )
    assert response.status_code == 403
    assert client.get(url).json()["name"] == "Selene Ice Prospector"
    allowed = client.patch(
        url, {"name": "From the dashboard"}, format="json", HTTP_IF_MATCH=tag, HTTP_ORIGIN=DASHBOARD
    )
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == DASHBOARD


def test_requests_without_an_origin_are_untouched(client_for, published):
    client = keyed(client_for(None), "read", origins="")
    response = client.get("/api/v1/projects")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize("origins", ["dashboard.example.org", "https://x.example/path", "ftp://x.example"])
def test_a_bad_origin_on_a_key_is_refused_naming_the_field(db, origins):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        ApiKey.issue(owner=key_owner(), name="Bad", scope="read", allowed_origins=origins)
    assert "allowed_origins" in refused.value.message_dict


def test_the_badge_is_embeddable_by_any_page(client, published):
    response = client.get("/en/projects/alpha/badge.svg", HTTP_ORIGIN=ELSEWHERE)
    assert response.status_code == 200
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["Access-Control-Allow-Origin"] == ELSEWHERE


def test_pages_are_not_opened_to_other_origins(client, published):
    response = client.get("/en/", HTTP_ORIGIN=ELSEWHERE)
    assert "Access-Control-Allow-Origin" not in response
