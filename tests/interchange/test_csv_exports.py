"""The score-card CSV of the API (public) and of the admin's export action (the analysts' selection)
are one writer: the same columns in the same order, and the same cells for a project that has
nothing waiting for publication; the admin's file also says whether each project is published."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from projects.interchange.importer import projects_import
from projects.models import Project
from tests.admin.pages import LIST_URL, ratings
from tests.conftest import interchange, project_record
from tests.support.actors import reviewer_user

pytestmark = pytest.mark.django_db


def published(*records):
    projects_import(interchange(*records), publish=True, reviewer=reviewer_user(), note="Test publication.")


def api_csv() -> list[list[str]]:
    response = APIClient().get("/api/v1/export/scores.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def admin_csv(client, projects) -> list[list[str]]:
    selected = [str(project.pk) for project in projects]
    response = client.post(LIST_URL, {"action": "export_csv", "_selected_action": selected})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_admin_and_the_api_csv_have_the_same_header_for_the_same_projects(admin_client):
    published(
        project_record("alpha", name="=Alpha", assessments=ratings()),
        project_record("gamma", name="Gamma", launch_year=None),
    )

    public = api_csv()
    working = admin_csv(admin_client, Project.objects.all())

    state = working[0].index("state")
    assert working[0][:state] + working[0][state + 1 :] == public[0]
    assert public[0][0] == "slug" and public[0][-1] == "uncertainty_computed_at"
    # Nothing waits for publication: the analysts' rows are the public ones, and published.
    assert [row[:state] + row[state + 1 :] for row in working[1:]] == public[1:]
    assert [row[state] for row in working[1:]] == ["published", "published"]
    assert public[1][1] == "'=Alpha"  # shown, not run, by a spreadsheet


def test_the_admin_csv_reads_the_same_number_of_queries_for_few_and_many_projects(admin_client):
    """Draft facts naming another operator included: they are read for the whole selection."""
    slugs = [f"project-{number}" for number in range(6)]
    published(*[project_record(slug, assessments=ratings()) for slug in slugs])
    projects_import(
        interchange(
            *[
                project_record(
                    slug,
                    operator={"name": f"Operator {slug}", "country": "FR", "kind": "agency"},
                    assessments=ratings(),
                )
                for slug in slugs
            ]
        )
    )

    def export_queries(projects) -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = admin_csv(admin_client, projects)
        assert [row[2] for row in rows[1:]] == [f"Operator {project.slug}" for project in projects]
        return len(captured)

    ordered = list(Project.objects.order_by("slug"))
    export_queries(ordered)  # the session and permissions, read once
    assert export_queries(ordered[:2]) == export_queries(ordered)
