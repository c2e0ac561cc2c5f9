"""Migration 0016: every project's rankings sort key is filled from its published card."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = [("projects", "0015_body_indexes")], [("projects", "0016_published_net")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_published_net_is_the_published_cards_net_score():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Operator, Project = apps.get_model("projects", "Operator"), apps.get_model("projects", "Project")
    ScoreCard, Methodology = (
        apps.get_model("projects", "ScoreCard"),
        apps.get_model("projects", "Methodology"),
    )
    operator = Operator.objects.create(name="Op", slug="op", country="JP", kind="company")
    methodology = Methodology.objects.get(version="1.0")
    projects = {}
    for slug, published_net, working_net in [
        ("rated", 41.5, 50.0),
        ("unrated", None, None),
        ("draft", None, 12.0),
    ]:
        project = Project.objects.create(
            slug=slug, name=slug, operator=operator, target_body="moon", phase="concept"
        )
        working = ScoreCard.objects.create(
            project=project, methodology=methodology, card={}, status="rated", net_score=working_net
        )
        published = None
        if slug != "draft":
            published = ScoreCard.objects.create(
                project=project, methodology=methodology, card={}, status="rated", net_score=published_net
            )
        Project.objects.filter(pk=project.pk).update(current_score=working, published_score=published)
        projects[slug] = project.pk

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Project = executor.loader.project_state(AFTER).apps.get_model("projects", "Project")
    nets = dict(Project.objects.values_list("pk", "published_net"))
    # The published card's figure, never the working card's.
    assert nets == {projects["rated"]: 41.5, projects["unrated"]: None, projects["draft"]: None}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the database as the other tests expect
