"""The public page of your own weights (/<lang>/rankings/custom/, issue 16): a plain GET form
of sliders; the ranking under them with each project's official rank and movement; the URL
is the profile; bad values are named; both languages."""

import pytest

from projects import scoring
from projects.selectors import methodology_current
from projects.services.scoring import method_spec
from tests.support.builders import all_rated, every_rating, make_project
from tests.support.published import published_ratings
from tests.web.pages import page, table_rows, text

pytestmark = pytest.mark.django_db
URL = "/en/rankings/custom/"


@pytest.fixture
def projects(db):
    # Energy: strong on SDG 7 only; Industry: strong on SDG 9 only; Even: all at 2.
    make_project("energy", name="Energy", assessments=every_rating(1, **{f"S7_{i}": 4 for i in range(1, 6)}))
    make_project(
        "industry", name="Industry", assessments=every_rating(1, **{f"S9_{i}": 4 for i in range(1, 6)})
    )
    make_project("even", name="Even", assessments=all_rated(2))
    make_project("thin", name="Thin", assessments=all_rated(2)[:4])  # no net score: not ranked


def rows(response) -> list[list[str]]:
    return table_rows(page(response), "custom-ranking")


def names(response) -> list[str]:
    return [row[1].split(" ")[0] for row in rows(response)]


def test_the_official_weights_give_the_official_ranking_and_no_movement(client, projects):
    response = client.get(URL)
    assert response.status_code == 200
    official = [name for name in ("Even", "Energy", "Industry")]
    from projects.models import Project

    expected = list(
        Project.objects.published()
        .filter(published_net__isnull=False)
        .order_by("-published_net", "name")
        .values_list("name", flat=True)
    )
    assert names(response) == expected and sorted(expected) == sorted(official)
    assert all("no change" in row[2] for row in rows(response))
    assert "Reset to the official method" not in text(response)
    # The sliders start at the method's weights: 1, 1, 1 and α 0.5.
    tree = page(response)
    values = {
        i.attrs["name"]: i.attrs["value"] for i in tree.find_all("input") if i.attrs.get("type") == "range"
    }
    assert values == {"sdg7": "1", "sdg9": "1", "sdg12": "1", "alpha": "0.5"}


def test_weighting_one_goal_moves_its_project_up_with_the_movement_shown(client, projects):
    response = client.get(f"{URL}?sdg7=10&sdg9=0&sdg12=0&alpha=0")
    assert response.status_code == 200
    assert names(response)[0] == "Energy"
    first = rows(response)[0]
    assert first[0] == "1"
    official_rank = int(first[5])
    if official_rank > 1:
        assert f"↑{official_rank - 1}" in first[2] and f"up {official_rank - 1} place" in first[2]
    spec = method_spec(methodology_current())
    profile = scoring.Profile.from_values(spec, dimensions={"sdg7": 10}, alpha=0)
    from projects.models import Project

    energy = Project.objects.get(slug="energy")
    card = scoring.score_under(
        spec,
        published_ratings(energy),
        profile,
    )
    assert first[4] == f"{scoring.round_half_up(card.net, 1):.1f}" and card.grade in first[3]
    # The form keeps the weights; the reset link goes back to the method's.
    tree = page(response)
    values = {
        i.attrs["name"]: i.attrs["value"] for i in tree.find_all("input") if i.attrs.get("type") == "range"
    }
    assert values == {"sdg7": "10", "sdg9": "0", "sdg12": "0", "alpha": "0"}
    reset = [a for a in tree.find_all("a") if a.clean_text == "Reset to the official method"]
    assert reset and reset[0].attrs["href"] == URL
    industry = next(row for row in rows(response) if row[1].startswith("Industry"))
    assert "down" in industry[2] or "no change" in industry[2]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("sdg7=-1", "SDG 7"),
        ("sdg9=11", "SDG 9"),
        ("alpha=2", "Risk penalty α"),
        ("sdg12=many", "SDG 12"),
        ("sdg7=0&sdg9=0&sdg12=0", "at least one SDG"),
        # Off the sliders' steps: the slider could not show it.
        ("sdg7=2.5", "SDG 7"),
        ("alpha=0.33", "Risk penalty α"),
    ],
)
def test_bad_values_are_named_and_answered_400(client, projects, query, words):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    alert = page(response).find("div", class_="problem")
    assert words in alert.clean_text
    assert not page(response).find_all("table", class_="custom-ranking")


def test_the_japanese_page(client, projects):
    response = client.get("/ja/rankings/custom/?sdg7=2&sdg9=1&sdg12=1&alpha=0.3")
    assert response.status_code == 200
    content = text(response)
    assert "独自の重み" in content
    assert len(rows(response)) == 3


def test_pages_of_fifty_and_the_query_count(client, projects, django_assert_max_num_queries):
    for index in range(60):
        make_project(f"extra-{index:02d}", name=f"Extra {index:02d}", assessments=all_rated(1 + index % 3))
    first = client.get(f"{URL}?sdg7=2&sdg9=1&sdg12=1&alpha=0.3")
    second = client.get(f"{URL}?sdg7=2&sdg9=1&sdg12=1&alpha=0.3&page=2")
    assert len(rows(first)) == 50 and len(rows(second)) == 13
    assert 'rel="next"' in first.content.decode() and "page=2" in first.content.decode()
    assert int(rows(second)[0][0]) >= int(rows(first)[-1][0])


def test_after_a_method_release_the_page_says_the_ranking_is_being_recomputed(client, projects, monkeypatch):
    from projects.services import profiles
    from projects.services.uncertainty import uncertainty_compute

    monkeypatch.setattr(profiles, "MAX_SCORED_IN_REQUEST", 0)  # the projects published since no run
    response = client.get(f"{URL}?sdg7=2&sdg9=1&sdg12=1&alpha=0.3")
    assert response.status_code == 503
    assert "Being recomputed" in text(response)
    assert not page(response).find_all("table", class_="custom-ranking")
    uncertainty_compute(reason="test")
    response = client.get(f"{URL}?sdg7=2&sdg9=1&sdg12=1&alpha=0.4")
    assert response.status_code == 200 and len(rows(response)) == 3
