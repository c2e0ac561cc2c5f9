"""Rankings under a reader's own weights (issue 16, method §9; projects.services.profiles): read
from the dimension values stored with the uncertainty run, decided exactly by the engine, and
the same as scoring every published project's ratings under the profile independently."""

import io
import random
from fractions import Fraction

import pytest
from django.core.management import call_command

from projects import scoring
from projects.models import Project
from projects.selectors import methodology_current
from projects.services import uncertainty
from projects.services.profiles import profile_ranking, ranking_basis
from projects.services.scoring import method_spec
from tests.support.builders import all_rated, make_project
from tests.support.published import published_ratings

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db, django_capture_on_commit_callbacks):
    """70 synthetic published projects (some insufficiently rated), their uncertainty run, then
    two more published after it (read from their ratings: the run has no row for them), one
    a tie of another's values."""
    call_command("generate_projects", 70, seed=16, stdout=io.StringIO(), stderr=io.StringIO())
    uncertainty.uncertainty_compute(scenarios=100)
    with django_capture_on_commit_callbacks(execute=False):
        make_project("late-three", name="Late three", assessments=all_rated(3, grade="A"))
        make_project("late-three-twin", name="Late three twin", assessments=all_rated(3, grade="A"))


def expected_ranking(profile: scoring.Profile) -> list[tuple[str, int, int, Fraction, str]]:
    """Independently: every rated published project's ratings scored under the profile by the
    engine, ranked as the official ranking is, by the net as served (one decimal): ties share a
    rank and are listed by name and slug; the official rank by the published net."""
    spec = method_spec(methodology_current())
    scored = []
    for project in Project.objects.published().select_related("published_score", "publication"):
        ratings = published_ratings(project)
        if scoring.score(spec, ratings).status != "rated":
            continue
        card = scoring.score_under(spec, ratings, profile)
        if card.status == "rated":
            scored.append((project, card, scoring.round_half_up(card.net, 1)))
    scored.sort(key=lambda item: (-item[2], item[0].name, item[0].slug))
    served_nets = [served for _, _, served in scored]
    officials = [project.published_net for project, _, _ in scored]
    return [
        (
            project.slug,
            1 + sum(other > served for other in served_nets),
            1 + sum(other > project.published_net for other in officials),
            card.net,
            card.grade,
        )
        for project, card, served in scored
    ]


def served(profile: scoring.Profile, page_size: int) -> list[tuple[str, int, int, Fraction, str]]:
    ranking = profile_ranking(profile)
    slugs = dict(Project.objects.values_list("pk", "slug"))
    rows = []
    for start in range(0, len(ranking), page_size):
        rows += ranking[start : start + page_size]
    return [(slugs[row.project_id], row.rank, row.official_rank, row.net, row.grade) for row in rows]


def profiles():
    spec = method_spec(methodology_current())
    yield scoring.Profile.official(spec)
    yield scoring.Profile.from_values(spec, dimensions={"sdg7": 1, "sdg9": 0, "sdg12": 0}, alpha=0)
    yield scoring.Profile.from_values(spec, dimensions={"sdg7": 0, "sdg9": 0, "sdg12": 3}, alpha=1)
    draw = random.Random(16)
    for _ in range(5):
        weights = {key: draw.choice([0, 0.5, 1, 2, 3.7, 10, 100]) for key in ("sdg7", "sdg9", "sdg12")}
        weights["sdg9"] = weights["sdg9"] or 1
        yield scoring.Profile.from_values(
            spec, dimensions=weights, alpha=str(draw.choice(["0", "0.15", "0.5", "1"]))
        )


def test_every_profile_ranks_as_scoring_each_projects_ratings_would(catalogue):
    for profile in profiles():
        expected = expected_ranking(profile)
        assert len(expected) > 50
        # Pages of 7 and of 50 put together: the pages' edges change nothing.
        assert served(profile, 7) == expected
        assert served(profile, 50) == expected


def test_the_official_profile_reproduces_every_stored_card_and_the_official_ranking(catalogue):
    spec = method_spec(methodology_current())
    ranking = profile_ranking(scoring.Profile.official(spec))
    rows = ranking[0 : len(ranking)]
    projects = (
        Project.objects.published()
        .select_related("published_score", "publication")
        .in_bulk([r.project_id for r in rows])
    )
    rated = Project.objects.published().filter(published_net__isnull=False).count()
    assert len(rows) == rated
    for row in rows:
        project = projects[row.project_id]
        card = project.published_score
        # Exactly the engine's card of the published ratings, and so the stored card's figures.
        ratings = published_ratings(project)
        engine = scoring.score(spec, ratings)
        assert (row.net, row.grade, row.grade_cap) == (engine.net, engine.grade, engine.grade_cap)
        assert scoring.round_half_up(row.net, 1) == float(card.net_score) and row.grade == card.grade
        assert row.rank == row.official_rank and row.movement == 0


def test_a_late_publication_is_read_from_its_ratings_and_ties_share_a_rank(catalogue):
    spec = method_spec(methodology_current())
    ranking = profile_ranking(scoring.Profile.from_values(spec, dimensions={"sdg9": 1}, alpha="0.3"))
    rows = ranking[0 : len(ranking)]
    slugs = dict(Project.objects.values_list("pk", "slug"))
    late = [row for row in rows if slugs[row.project_id].startswith("late-three")]
    assert [slugs[row.project_id] for row in late] == ["late-three", "late-three-twin"]  # by name
    assert late[0].rank == late[1].rank and late[0].net == late[1].net


def test_the_basis_is_kept_per_site_generation(catalogue, django_assert_num_queries):
    first = ranking_basis()
    with django_assert_num_queries(1):  # the generation only
        assert ranking_basis() is first
    make_project("later", name="Later", assessments=all_rated(4, grade="A"))
    second = ranking_basis()
    assert second.generation[0] > first.generation[0]
    assert len(second.ids) == len(first.ids) + 1
