"""Lists cost a fixed number of queries, whatever the page size (no N+1)."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.interchange.importer import projects_import
from projects.models import Assessment, Project, Publication
from tests.conftest import interchange, project_record
from tests.support.actors import publish_as_reviewer, reviewer_user
from tests.support.openapi import make_client

from .conftest import dataset, ratings

pytestmark = pytest.mark.django_db

COUNT = 26


def build_many() -> None:
    records = [
        project_record(
            f"project-{index:02d}",
            operator={"name": f"Operator {index:02d}", "country": "JP", "kind": "company"},
            assessments=ratings(index % 5, (index + 1) % 5, (index + 2) % 5, index % 4, (index + 3) % 4),
        )
        for index in range(COUNT)
    ]
    projects_import(
        interchange(*copy.deepcopy(records)), publish=True, reviewer=reviewer_user(), note="Test publication."
    )
    draft_operator = {"name": "Drafty", "country": "FR", "kind": "agency"}
    projects_import(interchange(project_record("a-draft", operator=draft_operator)))
    # A long score history is a long list of publications: re-rate S7.1 and publish, COUNT times.
    first = Project.objects.get(slug="project-00")
    for index in range(COUNT):
        Assessment.objects.filter(project=first, criterion__code="S7.1").update(level=(index + 1) % 5)
        publish_as_reviewer(project=first, note=f"Revision {index + 1}.")


@pytest.fixture
def many(db) -> None:
    """26 published projects, each with all 25 ratings and its own operator, and one draft;
    the first project has a long score history (COUNT + 1 publications)."""
    dataset("many", build_many)
    assert Publication.objects.filter(project__slug="project-00").count() == COUNT + 1


def queries(client, url: str) -> int:
    client.get(url)  # warm up: a key's first request records its use
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


LISTS = [
    "/api/v1/projects?",
    "/api/v1/projects?ordering=-net_score&target_body=moon&operator_country=JP&",
    "/api/v1/rankings?",
    "/api/v1/rankings?ordering=name&",
    "/api/v1/sync/projects?",
    "/api/v1/operators?",
    "/api/v1/methodologies?",
    "/api/v1/projects/project-00/scores?",
]


@pytest.mark.parametrize("url", LISTS)
def test_a_list_costs_the_same_queries_for_2_and_20_items(client_for, many, url):
    for scope in (None, "write"):
        client = client_for(scope)
        small = queries(client, f"{url}page_size=2")
        large = queries(client, f"{url}page_size=20")
        assert small == large, (scope, small, large)
        expected = 1 if "methodologies" in url else 20
        assert len(client.get(f"{url}page_size=20").json()["results"]) == expected


def test_assessments_cost_the_same_queries_for_1_and_25_ratings(openapi, many):
    projects_import(
        interchange(project_record("one-rating", assessments=ratings()[:1])),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    client = make_client(openapi)
    assert queries(client, "/api/v1/projects/one-rating/assessments") == queries(
        client, "/api/v1/projects/project-01/assessments"
    )


def test_the_exports_cost_the_same_queries_for_few_and_many_projects(openapi, many):
    client = make_client(openapi)

    def export_queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            b"".join(response.streaming_content)
        return len(captured)

    large = {
        url: export_queries(url) for url in ("/api/v1/export/projects.json", "/api/v1/export/scores.csv")
    }
    Project.objects.exclude(slug__in=["project-00", "project-01"]).delete()
    small = {url: export_queries(url) for url in large}
    assert small == large
