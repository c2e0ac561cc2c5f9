"""Rate limits: each key its own rate, anonymous clients the shared API_ANONYMOUS_RATE."""

import pytest

from .conftest import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects"


def assert_throttled(response) -> None:
    body = assert_problem(response, 429)
    assert body["title"] == "Too Many Requests"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60


def test_a_key_is_limited_to_its_own_rate_with_retry_after(client_for, published):
    client = client_for("read", rate="3/minute")
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    assert_throttled(client.get(URL))


def test_every_endpoint_counts_against_the_same_key_limit(client_for, published):
    client = client_for("write", rate="3/minute")
    assert client.get("/api/v1/projects/alpha").status_code == 200
    assert client.get("/api/v1/operators").status_code == 200
    assert client.get("/api/v1/projects/no-such-project").status_code == 404
    assert_throttled(client.get("/api/v1/methodologies"))


def test_writes_are_limited_too(client_for, published):
    client = client_for("write", rate="1/minute")
    assert client.get(URL).status_code == 200
    response = client.patch("/api/v1/projects/alpha", {"name": "X"}, format="json", HTTP_IF_MATCH="*")
    assert_throttled(response)


def test_one_keys_limit_does_not_affect_another_key(client_for, published):
    first = client_for("read", rate="2/minute")
    second = client_for("read", rate="2/minute")
    for _ in range(2):
        assert first.get(URL).status_code == 200
    assert_throttled(first.get(URL))
    assert [second.get(URL).status_code for _ in range(2)] == [200, 200]
    assert_throttled(second.get(URL))


def test_a_throttled_key_does_not_throttle_anonymous_clients(client_for, published):
    keyed = client_for("read", rate="1/minute")
    assert keyed.get(URL).status_code == 200
    assert_throttled(keyed.get(URL))
    assert client_for(None).get(URL).status_code == 200


def test_anonymous_clients_get_the_anonymous_rate(client_for, published, settings):
    settings.API_ANONYMOUS_RATE = "2/minute"
    anon = client_for(None)
    assert [anon.get(URL).status_code for _ in range(2)] == [200, 200]
    assert_throttled(anon.get(URL))


def test_a_key_is_not_held_to_the_anonymous_rate(client_for, published, settings):
    settings.API_ANONYMOUS_RATE = "1/minute"
    keyed = client_for("read", rate="1000/hour")
    assert [keyed.get(URL).status_code for _ in range(4)] == [200] * 4


def test_the_anonymous_rate_cannot_be_dodged_with_forwarded_for_headers(client_for, published, settings):
    # A client sets X-Forwarded-For itself; only the proxy in front of the service may be trusted.
    settings.API_ANONYMOUS_RATE = "2/minute"
    anon = client_for(None)
    statuses = [anon.get(URL, HTTP_X_FORWARDED_FOR=f"203.0.113.{index}").status_code for index in range(1, 5)]
    assert statuses == [200, 200, 429, 429]


def rate_state(response) -> tuple[int, int, int, str]:
    return (
        int(response["RateLimit-Limit"]),
        int(response["RateLimit-Remaining"]),
        int(response["RateLimit-Reset"]),
        response["RateLimit-Policy"],
    )


def test_every_answer_says_where_the_client_stands(client_for, published):
    """RateLimit headers (IETF draft) on fresh answers, cached ones, 304s, errors and the 429."""
    client = client_for("read", rate="5/minute")
    first = client.get(URL)  # computed
    second = client.get(URL)  # from the read cache
    third = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])  # 304
    fourth = client.get("/api/v1/projects/no-such-project")  # 404
    fifth = client.get("/api/v1/export/scores.csv")  # a streamed export
    refused = client.get(URL)
    assert [r.status_code for r in (first, second, third, fourth, fifth, refused)] == [
        200,
        200,
        304,
        404,
        200,
        429,
    ]
    states = [rate_state(r) for r in (first, second, third, fourth, fifth, refused)]
    assert [remaining for _, remaining, _, _ in states] == [4, 3, 2, 1, 0, 0]
    assert {limit for limit, _, _, _ in states} == {5}
    assert {policy for _, _, _, policy in states} == {"5;w=60"}
    assert all(0 < reset <= 60 for _, _, reset, _ in states)


def test_anonymous_answers_carry_the_anonymous_rate(client_for, published, settings):
    settings.API_ANONYMOUS_RATE = "7/hour"
    response = client_for(None).get(URL)
    assert rate_state(response)[:2] == (7, 6)
    assert response["RateLimit-Policy"] == "7;w=3600"
