"""generate_projects: synthetic, clearly marked, scored exactly as the engine scores, published."""

import io

import pytest
from django.core.management import CommandError, call_command

from projects.models import Assessment, Project, Publication, ScoreCard
from projects.services.scoring import project_rescore

pytestmark = pytest.mark.django_db


def generate(*args) -> str:
    out = io.StringIO()
    call_command("generate_projects", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_generated_projects_are_synthetic_published_and_scored_as_the_engine_scores():
    assert "Created 60 synthetic projects (published)" in generate("60", "--seed", "7")
    projects = Project.objects.select_related("current_score", "published_score", "publication")
    assert projects.count() == 60
    assert {p.origin for p in projects} == {"synthetic"} and {p.state for p in projects} == {"published"}
    assert all(p.published_score_id == p.current_score_id == p.publication.score_id for p in projects)
    assert 1200 <= Assessment.objects.count() < 1500  # 25 criteria, some left missing
    assert Assessment.objects.filter(not_applicable=True).exists()
    cards = ScoreCard.objects.count()
    for project in projects:
        assert project_rescore(project_id=project.pk).pk == project.current_score_id
    assert ScoreCard.objects.count() == cards  # the engine found nothing to change
    assert len({p.current_score.grade for p in projects}) >= 3  # a mix, not one grade
    assert Publication.objects.filter(changes__first=True).count() == 60


def test_the_same_seed_gives_the_same_ratings_and_a_second_run_adds_new_slugs():
    generate("5", "--seed", "1", "--draft")
    first = list(
        Assessment.objects.order_by("project__slug", "criterion__position").values_list(
            "level", "not_applicable"
        )
    )
    generate("5", "--seed", "1", "--draft")
    assert Project.objects.count() == 10
    assert Project.objects.filter(state="draft", publication__isnull=True).count() == 10
    second = list(
        Assessment.objects.filter(project__slug__gt="synthetic-0000005")
        .order_by("project__slug", "criterion__position")
        .values_list("level", "not_applicable")
    )
    assert first == second


@pytest.mark.parametrize("count", ["0", "-3", "1000001"])
def test_a_count_out_of_range_is_refused(count):
    with pytest.raises(CommandError, match="count: give a number from 1 to 1000000"):
        generate(count)
