"""export_projects: the same format, deterministic, and a lossless round trip."""

import json

import pytest
from django.core.management import call_command

from projects.interchange.importer import projects_import
from projects.models import Project
from tests.conftest import interchange, project_record, rated
from tests.support.actors import publish_as_reviewer

pytestmark = pytest.mark.django_db


def export(tmp_path, *args, name="export.json") -> str:
    path = tmp_path / name
    call_command("export_projects", "-o", str(path), *args)
    return path.read_text(encoding="utf-8")


def test_export_import_export_is_identical_on_the_demo_data(tmp_path):
    call_command("load_demo")
    first = export(tmp_path, name="first.json")
    Project.objects.all().delete()
    call_command("import_projects", str(tmp_path / "first.json"), "--user", "tester")
    assert export(tmp_path, name="second.json") == first


def test_export_carries_the_score_card_and_the_ratings(tmp_path):
    projects_import(
        interchange(
            project_record(
                "alpha",
                summary_ja="日本語の要約",
                assessments=[
                    rated("S7.1", 3, "A"),
                    {"criterion": "D5", "not_applicable": True, "evidence": "No surface work."},
                ],
            )
        )
    )
    data = json.loads(export(tmp_path))
    assert data["format"] == "sdgscore.projects/1" and data["methodology"] == "1.0"
    (project,) = data["projects"]
    assert project["summary_ja"] == "日本語の要約"
    assert project["assessments"] == [
        {
            "criterion": "S7.1",
            "rating": 3,
            "evidence": "Illustrative evidence.",
            "evidence_grade": "A",
            "source_url": "https://example.org/evidence",
        },
        {"criterion": "D5", "not_applicable": True, "evidence": "No surface work."},
    ]
    assert project["score"]["status"] == "insufficient_data"
    assert project["score"]["dimensions"]["sdg7"]["coverage"] == 0.3


def test_published_only_leaves_drafts_out(tmp_path):
    projects_import(interchange(project_record("draft-one"), project_record("public-one")))
    publish_as_reviewer(project=Project.objects.get(slug="public-one"), note="Test publication.")
    data = json.loads(export(tmp_path, "--published-only"))
    assert [p["slug"] for p in data["projects"]] == ["public-one"]


def test_demo_projects_are_published_and_marked_illustrative():
    call_command("load_demo")
    projects = Project.objects.select_related("current_score")
    assert projects.count() == 14
    assert all(p.is_published and p.origin == "demo" and p.is_illustrative for p in projects)
    assert {p.current_score.status for p in projects} == {"rated"}
    call_command("load_demo")  # loading twice changes nothing
    assert Project.objects.count() == 14
    # With its uncertainty figures, for a site without a task worker (make run).
    from projects.services.uncertainty import current_run

    assert current_run().projects == 14 and current_run().reason == "demo data"
