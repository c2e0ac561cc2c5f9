"""Project page: the score card, why (every criterion and its evidence), how sure, and its history."""

import pytest

from projects.models import Assessment, Criterion
from projects.services.ratings import assessment_save
from tests.support.actors import publish_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.support.criteria import CODES
from tests.web.pages import page, table_rows, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(db):
    ratings = all_rated(2, S7_1="missing", D5=None)
    for rating in ratings:
        if rating["criterion"] == "S9.1":
            rating.update(rating=4, evidence_grade="A", source_url="https://example.org/s91")
    return make_project(
        "alpha",
        name="Alpha Lander",
        operator={"name": "Alpha Space", "country": "JP", "kind": "company"},
        target_body="moon",
        resources=["water_ice", "regolith"],
        phase="demonstration",
        launch_year=2027,
        summary="An English summary.",
        summary_ja="日本語の概要。",
        assessments=ratings,
    )


def test_unknown_and_draft_projects_are_404(client):
    make_project("secret", publish=False)
    assert client.get("/en/projects/secret/").status_code == 404
    assert client.get("/en/projects/no-such-project/").status_code == 404


def test_page_shows_the_projects_facts(client, alpha):
    body = text(client.get("/en/projects/alpha/"))
    for fact in ("Alpha Lander", "Alpha Space", "Moon", "Water ice, Regolith", "Demonstration", "2027"):
        assert fact in body
    assert "An English summary." in body


def test_grade_net_score_range_and_confidence_come_from_the_published_card(client, alpha):
    card = alpha.published_score.card
    tree = page(client.get("/en/projects/alpha/"))
    headline = tree.find("section", class_="score-card").clean_text
    assert f"Grade {card['overall']['grade']}" in headline
    assert f"{card['overall']['value']:.1f} / 100" in headline
    assert f"{card['overall']['low']:.1f}–{card['overall']['high']:.1f}" in headline
    assert f"({card['confidence_score']:.2f})" in headline
    assert "version 1.0" in headline


def test_sdg_chart_is_inline_svg_with_a_text_equivalent(client, alpha):
    tree = page(client.get("/en/projects/alpha/"))
    chart = tree.find("svg", class_="sdg-chart")
    assert chart.attrs["role"] == "img"
    assert set(chart.attrs["aria-labelledby"].split()) == {"chart-title", "chart-desc"}
    sdg7 = alpha.current_score.card["dimensions"]["sdg7"]
    description = chart.find("desc").clean_text
    assert (
        f"SDG 7 Affordable and clean energy: {sdg7['value']:.1f} (range {sdg7['low']:.1f}–{sdg7['high']:.1f})"
        in description
    )
    rows = table_rows(tree, "dimensions")
    assert rows[0][:4] == [
        "SDG 7 Affordable and clean energy",
        f"{sdg7['value']:.1f}",
        f"{sdg7['low']:.1f}–{sdg7['high']:.1f}",
        "70%",  # S7.1 (weight 3 of 10) is missing
    ]


def test_every_criterion_shows_level_meaning_justification_evidence_and_source(client, alpha):
    tree = page(client.get("/en/projects/alpha/"))
    items = tree.find_all("li", class_="criterion")
    assert [item.attrs["id"] for item in items] == [
        f"criterion-{code.lower().replace('.', '')}" for codes in CODES.values() for code in codes
    ]
    s91 = tree.find("li", id="criterion-s91").clean_text
    meaning = Criterion.objects.get(code="S9.1").level_text(4, "en")
    assert "Level 4 of 4" in s91 and meaning in s91
    assert "Evidence for S9.1." in s91
    assert "A Independent or official verification" in s91
    assert (
        tree.find("li", id="criterion-s91").find("a", class_="source").attrs["href"]
        == "https://example.org/s91"
    )


def test_missing_and_not_applicable_criteria_are_said_so(client, alpha):
    tree = page(client.get("/en/projects/alpha/"))
    assert "Not assessed yet" in tree.find("li", id="criterion-s71").clean_text
    assert "Not applicable" in tree.find("li", id="criterion-d5").clean_text


def test_japanese_page_uses_japanese_criteria_texts_and_summary(client, alpha):
    response = client.get("/ja/projects/alpha/")
    tree = page(response)
    criterion = Criterion.objects.get(code="S9.1")
    s91 = tree.find("li", id="criterion-s91").clean_text
    assert criterion.name("ja") in s91
    assert criterion.level_text(4, "ja") in s91
    assert "日本語の概要。" in text(response)
    # The justification was written in English: marked so for screen readers.
    justification = tree.find("li", id="criterion-s91").find("dd", lang="en")
    assert justification.clean_text == "Evidence for S9.1."


def test_severe_flag_is_explained_with_the_criterion_that_raised_it(client):
    make_project("risky", assessments=all_rated(1, E2=4))
    tree = page(client.get("/en/projects/risky/"))
    explained = tree.find("p", class_="severe-explained")
    assert "caps the grade at D" in explained.clean_text
    assert explained.find("a").attrs["href"] == "#criterion-e2"


def test_grade_cap_is_explained(client):
    levels = {code.replace(".", "_"): 3 for code in CODES["debris"]} | {
        code.replace(".", "_"): 0 for code in CODES["equity"]
    }
    project = make_project("capped", assessments=all_rated(4, **levels))  # net 62.5 would be a B
    assert project.current_score.card["overall"]["grade_cap"] == "risk_level_high"
    assert "The grade is capped at C because a risk level is high." in text(
        client.get("/en/projects/capped/")
    )


def test_project_with_insufficient_data_shows_ranges_and_why_there_is_no_grade(client):
    project = make_project("thin", assessments=all_rated(2)[:4])
    assert project.current_score.status == "insufficient_data"
    response = client.get("/en/projects/thin/")
    assert response.status_code == 200
    body = text(response)
    assert "No grade: insufficient data" in body
    assert "there is no net score or grade yet" in body
    overall = project.current_score.card["overall"]
    assert f"{overall['low']:.1f}–{overall['high']:.1f}" in body


def test_dimension_where_nothing_applies_is_shown_as_not_applicable(client):
    na_sdg12 = {code.replace(".", "_"): None for code in CODES["sdg12"]}
    make_project("no-sdg12", assessments=all_rated(3, **na_sdg12))
    tree = page(client.get("/en/projects/no-sdg12/"))
    sdg12_row = next(row for row in table_rows(tree, "dimensions") if row[0].startswith("SDG 12"))
    assert sdg12_row[1] == "not applicable"
    assert "SDG 12 Responsible consumption and production: not applicable" in tree.find("desc").clean_text
    assert "No criterion of this dimension applies" in tree.find("section", class_="ratings").clean_text


def test_history_lists_every_publication_newest_first_with_what_changed_and_why(client, alpha):
    first = alpha.published_score
    assessment = Assessment.objects.get(project=alpha, criterion__code="S9.2")
    assessment.level = 4
    assessment_save(assessment)

    def history_rows():
        tree = page(client.get("/en/projects/alpha/"))
        return [row.clean_text for row in tree.find("section", class_="history").find("tbody").find_all("tr")]

    assert len(history_rows()) == 1  # an unpublished edit is not history yet
    publish_as_reviewer(project=alpha, note="S9.2 re-rated after the landing.")
    alpha.refresh_from_db()

    rows = history_rows()
    assert len(rows) == 2
    new = alpha.published_score
    assert new.net_score > first.net_score
    assert f"{new.net_score:.1f}" in rows[0]
    assert f"S9.2 2 → 4; net {first.net_score:.1f} → {new.net_score:.1f}" in rows[0]
    assert rows[0].endswith("S9.2 re-rated after the landing.")
    assert f"{first.net_score:.1f}" in rows[1]
    assert f"first publication; net {first.net_score:.1f}; grade {first.grade}" in rows[1]
    assert rows[1].endswith("Test publication.")


def test_demo_project_carries_the_illustrative_note(client):
    make_project("demo", origin="demo")
    make_project("real")
    assert "Illustrative demo assessment." in text(client.get("/en/projects/demo/"))
    assert "Illustrative demo assessment." not in text(client.get("/en/projects/real/"))
    assert "説明用のデモ評価です。" in text(client.get("/ja/projects/demo/"))


def test_project_page_runs_a_fixed_number_of_queries(client, alpha, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        client.get("/en/projects/alpha/")
