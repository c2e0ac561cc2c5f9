"""A method release copies every rating to the new method in one statement; on PostgreSQL the
planner is told about the new rows at once (ANALYZE), so the rescoring that follows reads each
chunk's ratings through the (project, criterion) index instead of every rating of the method."""

import pytest
from django.db import connection

from projects.methodology import method_file_data, method_install
from projects.models import Assessment, Criterion, Methodology
from projects.services.methodology import ratings_carry_over
from tests.support.builders import make_project

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics"),
]


def test_the_carried_over_ratings_are_known_to_the_planner_at_once():
    for number in range(4):
        make_project(f"p-{number}")
    data = method_file_data("1.0")
    data["version"] = "1.1"
    source = Methodology.objects.get(version="1.0")
    target = method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")
    copied = ratings_carry_over(source=source, target=target)
    assert copied == 4 * 25
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'projects_assessment'")
        (estimated,) = cursor.fetchone()
    assert estimated == Assessment.objects.count() == 2 * copied
