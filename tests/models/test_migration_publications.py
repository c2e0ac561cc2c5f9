"""Migration 0008: projects published before publications existed keep what the public saw."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = [("projects", "0007_source_url_visible")], [("projects", "0008_publications")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_published_projects_get_publication_1_with_their_ratings_and_card():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Operator, Project = apps.get_model("projects", "Operator"), apps.get_model("projects", "Project")
    Assessment, Criterion = apps.get_model("projects", "Assessment"), apps.get_model("projects", "Criterion")
    ScoreCard = apps.get_model("projects", "ScoreCard")
    operator = Operator.objects.create(name="Old Op", slug="old-op", country="JP", kind="company")
    criterion = Criterion.objects.get(code="S9.1")
    card = {"methodology": "1.0", "status": "insufficient_data", "overall": {"value": None, "grade": None}}
    projects = {}
    for slug, state in [("public", "published"), ("draft", "draft")]:
        project = Project.objects.create(
            slug=slug, name=slug, operator=operator, target_body="moon", phase="concept", state=state
        )
        Assessment.objects.create(
            project=project, criterion=criterion, level=2, justification="Old.", evidence_grade="B"
        )
        score = ScoreCard.objects.create(
            project=project, methodology_id=criterion.methodology_id, card=card, status="insufficient_data"
        )
        Project.objects.filter(pk=project.pk).update(current_score=score)
        projects[slug] = project.pk

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Project, Publication = apps.get_model("projects", "Project"), apps.get_model("projects", "Publication")
    public = Project.objects.get(pk=projects["public"])
    publication = Publication.objects.get(project_id=public.pk)
    assert public.publication_id == publication.pk and public.published_score_id == public.current_score_id
    assert publication.number == 1 and publication.note
    assert [(r["criterion"], r["rating"], r["evidence"]) for r in publication.ratings] == [
        ("S9.1", 2, "Old.")
    ]
    assert publication.changes["first"] is True
    draft = Project.objects.get(pk=projects["draft"])
    assert draft.publication_id is None and not Publication.objects.filter(project_id=draft.pk).exists()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the database as the other tests expect
