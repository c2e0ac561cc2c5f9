"""GET /api/v1/projects and /api/v1/projects/{slug}: projects with their current score card."""

import pytest

from projects.models import Project

from .conftest import assert_problem, slugs

pytestmark = pytest.mark.django_db

CARD_KEYS = {"methodology", "status", "confidence", "overall", "dimensions"}
RANGE_KEYS = {"value", "low", "high"}
IMPACT_DIMENSION_KEYS = RANGE_KEYS | {"coverage"}
RISK_DIMENSION_KEYS = IMPACT_DIMENSION_KEYS | {"level", "severe"}


def test_project_list_is_paged_and_ordered_by_name_by_default(anon, published):
    response = anon.get("/api/v1/projects")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert body["next"] is None and body["previous"] is None
    # Ares, Comet, Helium, Psyche, Selene
    assert slugs(response) == ["beta", "epsilon", "delta", "gamma", "alpha"]


def test_project_list_items_carry_operator_body_resources_phase_year_links_and_score(anon, published):
    items = {item["slug"]: item for item in anon.get("/api/v1/projects").json()["results"]}
    alpha = items["alpha"]
    assert alpha["name"] == "Selene Ice Prospector"
    assert alpha["operator"] == {"slug": "lunar-co", "name": "Lunar Co", "country": "JP", "kind": "company"}
    assert alpha["target_body"] == "moon"
    assert alpha["resources"] == ["water_ice"]
    assert alpha["phase"] == "demonstration"
    assert alpha["launch_year"] == 2025
    assert alpha["links"] == ["https://example.org/alpha", "https://example.org/alpha/press"]
    assert alpha["state"] == "published"
    assert alpha["score"]["overall"]["value"] == 91.7
    assert items["beta"]["resources"] == ["regolith", "oxygen"]
    assert items["delta"]["launch_year"] is None


def test_project_detail_carries_the_current_score_card_in_the_documented_shape(anon, published):
    response = anon.get("/api/v1/projects/alpha")
    assert response.status_code == 200
    card = response.json()["score"]
    assert set(card) >= CARD_KEYS
    assert card["methodology"] == "1.0"
    assert RANGE_KEYS | {"grade"} <= set(card["overall"])
    assert set(card["dimensions"]) == {"sdg7", "sdg9", "sdg12", "debris", "equity"}
    for key in ("sdg7", "sdg9", "sdg12"):
        assert set(card["dimensions"][key]) >= IMPACT_DIMENSION_KEYS
    for key in ("debris", "equity"):
        assert set(card["dimensions"][key]) >= RISK_DIMENSION_KEYS


def test_project_detail_serves_the_stored_current_card(anon, published):
    project = Project.objects.select_related("current_score").get(slug="gamma")
    assert anon.get("/api/v1/projects/gamma").json()["score"] == project.current_score.card


def test_score_card_follows_the_method_for_uniform_level_2_ratings(anon, published):
    # Every criterion at 2: each dimension 50, N = 50 * 0.75 * 0.75 = 28.125 -> 28.1, grade D.
    card = anon.get("/api/v1/projects/beta").json()["score"]
    assert card["status"] == "rated"
    assert card["overall"]["value"] == 28.1
    assert card["overall"]["grade"] == "D"
    for key in ("sdg7", "sdg9", "sdg12", "debris", "equity"):
        assert card["dimensions"][key]["value"] == 50.0
        assert card["dimensions"][key]["coverage"] == 1.0
    assert card["dimensions"]["debris"]["level"] == "elevated"
    assert card["dimensions"]["debris"]["severe"] is False


def test_a_severe_rating_flags_its_dimension_and_caps_the_grade_at_d(anon, published):
    card = anon.get("/api/v1/projects/epsilon").json()["score"]
    assert card["dimensions"]["equity"]["severe"] is True
    assert card["dimensions"]["equity"]["level"] == "high"  # value 30 but flagged: at least high
    assert card["overall"]["value"] == 49.6  # grade C by value
    assert card["overall"]["grade"] == "D"


def test_a_project_with_too_few_ratings_has_insufficient_data_and_no_value_or_grade(anon, published):
    card = anon.get("/api/v1/projects/delta").json()["score"]
    assert card["status"] == "insufficient_data"
    assert card["overall"]["value"] is None
    assert card["overall"]["grade"] is None
    assert card["overall"]["low"] is not None and card["overall"]["high"] is not None
    assert card["dimensions"]["sdg7"]["value"] is None
    assert card["dimensions"]["sdg7"]["coverage"] == 0.3


def test_unknown_project_slug_is_a_404_problem(anon, published):
    body = assert_problem(anon.get("/api/v1/projects/no-such-project"), 404)
    assert body["title"] == "Not Found"
