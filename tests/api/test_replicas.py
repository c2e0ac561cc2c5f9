"""Read replicas (projects.routing): API reads by clients who see published data only come from
a replica; everything else, and the site generation, from the primary; an answer from a replica
that is behind is served but never cached as current."""

import copy
import sqlite3

import pytest
from django.db import connection, connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext

from projects import routing
from projects.interchange.importer import projects_import
from projects.models import ApiKey, Project
from tests.api.conftest import full_ratings
from tests.conftest import interchange, project_record
from tests.support.actors import key_owner, reviewer_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ALIAS = "replica1"


def add_replica(monkeypatch, settings_dict: dict):
    """A connection to a replica, made here rather than from settings (as DATABASE_REPLICA_URLS
    would make it), so that the test database's isolation lets it in."""
    connections[ALIAS] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, ALIAS)
    monkeypatch.setattr(routing, "replica_aliases", lambda: [ALIAS])
    return connections[ALIAS]


def remove_replica() -> None:
    connections[ALIAS].close()
    if hasattr(connections[ALIAS], "close_pool"):  # PostgreSQL's pool: nothing left connected
        connections[ALIAS].close_pool()
    del connections[ALIAS]


@pytest.fixture
def published(db):
    records = [
        project_record(slug, assessments=full_ratings(level)) for slug, level in (("one", 2), ("two", 3))
    ]
    projects_import(
        interchange(*copy.deepcopy(records)), publish=True, reviewer=reviewer_user(), note="Test publication."
    )


@pytest.fixture
def replica(monkeypatch, published):
    """The primary's own database under a second connection: every committed row is there."""
    yield add_replica(monkeypatch, {**connections["default"].settings_dict})
    remove_replica()


def tables_read(queries) -> str:
    return " ".join(query["sql"] for query in queries if query["sql"].lstrip().upper().startswith("SELECT"))


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/projects/one", "/api/v1/rankings"])
def test_public_api_reads_come_from_the_replica(client, replica, path):
    with CaptureQueriesContext(connection) as primary, CaptureQueriesContext(replica) as copy_:
        response = client.get(path)
    assert response.status_code == 200
    assert "projects_project" in tables_read(copy_.captured_queries)
    assert "projects_project" not in tables_read(primary.captured_queries)
    assert "projects_sitestate" in tables_read(primary.captured_queries)  # the generation: primary
    assert routing.reading_from() is None  # the next request starts on the primary again


def test_a_read_key_reads_the_replica_after_its_key_is_checked_on_the_primary(client, replica):
    _, raw = ApiKey.issue(owner=key_owner(), name="reader", scope=ApiKey.Scope.READ)
    with CaptureQueriesContext(connection) as primary, CaptureQueriesContext(replica) as copy_:
        response = client.get("/api/v1/projects/one", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert "projects_apikey" in tables_read(primary.captured_queries)
    assert "projects_project" in tables_read(copy_.captured_queries)


def test_write_keys_and_writes_stay_on_the_primary(client, replica):
    _, raw = ApiKey.issue(owner=key_owner(), name="writer", scope=ApiKey.Scope.WRITE)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    with CaptureQueriesContext(replica) as copy_:
        read = client.get("/api/v1/projects/one", **auth)
        written = client.patch(
            "/api/v1/projects/one",
            {"name": "One, renamed"},
            content_type="application/json",
            HTTP_IF_MATCH=read["ETag"],
            **auth,
        )
    assert (read.status_code, written.status_code) == (200, 200)
    assert copy_.captured_queries == []
    assert Project.objects.get(slug="one").apply_pending().name == "One, renamed"


def test_public_pages_read_the_primary(client, replica):
    with CaptureQueriesContext(replica) as copy_:
        assert client.get("/en/").status_code == 200
        assert client.get("/en/projects/one/").status_code == 200
    assert copy_.captured_queries == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a lagging copy is an SQLite file here")
def test_an_answer_from_a_lagging_replica_is_served_but_not_cached(client, monkeypatch, published, tmp_path):
    path = tmp_path / "replica.sqlite3"

    def replicate():  # the replica catches up: a copy of the primary as it stands
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()

    replicate()
    add_replica(monkeypatch, {**connections["default"].settings_dict, "NAME": str(path)})
    try:
        Project.objects.filter(slug="one").update(name="One, renamed")
        from projects.freshness import site_changed

        site_changed()  # as every change the public can see does
        lagging = client.get("/api/v1/projects/one")
        assert lagging.json()["name"] == "One"  # what the replica has: served
        assert client.get("/api/v1/projects/one").json()["name"] == "One"
        connections[ALIAS].close()
        replicate()
        caught_up = client.get("/api/v1/projects/one")
        assert caught_up.json()["name"] == "One, renamed"  # the lagging answer was not kept
    finally:
        remove_replica()
