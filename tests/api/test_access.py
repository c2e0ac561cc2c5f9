"""Who the client is, decided once per request (projects.api.access): the read cache and DRF's
authentication and throttle share one lookup of the key, one record of its use and one count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import ApiKey

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def key_queries(queries, verb: str) -> list[str]:
    return [q["sql"] for q in queries if "projects_apikey" in q["sql"] and q["sql"].lstrip().startswith(verb)]


@pytest.mark.parametrize("cached", [True, False], ids=["read cache on", "read cache off"])
def test_each_request_counts_once_against_the_key_rate(client_for, published, settings, cached):
    settings.RESPONSE_CACHE = cached
    client = client_for("read", rate="3/minute")
    paths = ["/api/v1/projects", "/api/v1/operators", "/api/v1/projects"]  # misses, then a hit
    assert [client.get(path).status_code for path in paths] == [200, 200, 200]
    assert_problem(client.get("/api/v1/methodologies"), 429)


def test_a_key_is_looked_up_once_and_its_use_recorded_once(client_for, published):
    client = client_for("read")
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/v1/projects").status_code == 200  # a miss: the cache, then DRF
    with CaptureQueriesContext(connection) as later:
        assert client.get("/api/v1/operators").status_code == 200
        assert client.get("/api/v1/projects").status_code == 200
    assert len(key_queries(first, "SELECT")) == 1
    assert len(key_queries(first, "UPDATE")) == 1  # last_used_at
    assert key_queries(later, "SELECT") == []  # kept under the site generation
    assert key_queries(later, "UPDATE") == []  # at most once a minute
    assert ApiKey.objects.get().last_used_at is not None


def test_a_write_key_is_looked_up_once_per_request(client_for, published):
    client = client_for("write")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/projects").status_code == 200
    assert len(key_queries(queries, "SELECT")) == 1
