"""A page of a project list counts its selection and dates it (Last-Modified) in one query."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from projects.interchange.importer import projects_import
from tests.support.actors import reviewer_user
from tests.support.builders import interchange, project_record

from .conftest import ratings

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/projects?page_size=2", "/api/v1/projects?target_body=moon&page_size=2", "/api/v1/rankings"]


@pytest.fixture
def three(db):
    records = [project_record(f"p-{n}", assessments=ratings(n + 1)) for n in range(3)]
    projects_import(interchange(*records), publish=True, reviewer=reviewer_user(), note="Test.")


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("scope", [None, "write"])
def test_the_count_and_the_newest_change_are_one_query(client_for, three, url, scope):
    client = client_for(scope)
    client.get(url)  # a key's first request records its use
    cache.clear()  # and the answer is read again, not replayed
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200 and response.json()["count"] == 3
    assert response.has_header("Last-Modified")
    aggregates = [query["sql"].upper() for query in captured if "MAX(" in query["sql"].upper()]
    assert len(aggregates) == 1, aggregates
    assert "COUNT(" in aggregates[0]


@override_settings(RESPONSE_CACHE=False)
def test_a_public_count_is_kept_until_something_public_changes(client_for, three):
    client = client_for("read")
    url = "/api/v1/projects?target_body=moon&page_size=2"
    assert client.get(url).json()["count"] == 3
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url)
    assert again.json()["count"] == 3 and again.has_header("Last-Modified")
    assert not [query for query in captured if "COUNT(" in query["sql"].upper()]
    record = project_record("p-new", assessments=ratings(3))
    projects_import(interchange(record), publish=True, reviewer=reviewer_user(), note="Test.")
    assert client.get(url).json()["count"] == 4
    assert client.get("/api/v1/projects?target_body=mars").json()["count"] == 0


@override_settings(RESPONSE_CACHE=False)
def test_a_write_keys_count_is_never_kept(client_for, three):
    client = client_for("write")
    url = "/api/v1/projects?page_size=2"
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).json()["count"] == 3
    assert [query for query in captured if "COUNT(" in query["sql"].upper()]
