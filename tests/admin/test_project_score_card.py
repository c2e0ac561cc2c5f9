"""The score card on the project page: shown read-only, with the figures worked out by hand.

The project used below (docs/scoring.md):

    sdg7    all 4 (grade A) but S7.4 (w1) missing: value 100, low 25·36/10 = 90, high 100, coverage 0.9
    sdg9    all 4 (A): 100            sdg12   all 4 (A): 100
    debris  D1 = 4 (w3), D2–D5 = 0 (grade D): value 25·12/10 = 30 -> moderate, but D1 is 4:
            severe flag, level raised to high; low = high = 30
    equity  all 0 (D) but E4 (w1) missing: value 0 (low), low 0, high 25·4/10 = 10, coverage 0.9
    I = 100, I_low = (90 + 100 + 100)/3 = 96.667, I_high = 100
    N      = 100·(1 − 0.15)·(1 − 0)       = 85.0  -> A, but capped at D (a risk criterion is 4)
    N_low  = 96.667·(1 − 0.15)·(1 − 0.05) = 78.06 -> 78.1
    N_high = 100·(1 − 0.15)·(1 − 0)       = 85.0
    confidence = (0.9 + 1 + 1 + 10·0.25/10 + 9·0.25/10)/5 = 3.375/5 = 0.675 -> medium
"""

import pytest

from .pages import ProjectPage, change_url, imported, ratings, score_card_rows, score_card_text

pytestmark = pytest.mark.django_db

SDG7, SDG9, SDG12 = (
    "SDG 7 Affordable and clean energy",
    "SDG 9 Industry, innovation and infrastructure",
    "SDG 12 Responsible consumption and production",
)
DEBRIS, EQUITY = "Orbital debris and surface-ejecta risk", "Equity and non-appropriation risk"


def capped_project():
    risk_zero = {code: (0, "D") for code in ("D2", "D3", "D4", "D5", "E1", "E2", "E3", "E5")}
    return imported("capped", assessments=ratings(4, "A", missing={"S7.4", "E4"}, D1=(4, "D"), **risk_zero))


def test_the_stored_card_of_the_example_matches_the_hand_computation():
    card = capped_project().current_score
    assert (card.grade, card.net_score, card.net_low, card.net_high) == ("D", 85.0, 78.1, 85.0)
    assert (card.debris_level, card.debris_severe, card.equity_level) == ("high", True, "low")
    assert card.confidence == "medium"


def test_project_page_shows_grade_net_score_range_status_and_confidence(admin_client):
    project = capped_project()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    text = score_card_text(page.tree)
    assert "Grade D" in text
    assert "net score 85.0" in text
    assert "78.1 – 85.0" in text
    assert "status Rated" in text
    assert "confidence Medium" in text
    assert "capped: a risk criterion is rated 4" in text


def test_project_page_shows_each_dimension_with_value_range_coverage_and_risk_level(admin_client):
    project = capped_project()
    rows = score_card_rows(ProjectPage.of(admin_client.get(change_url(project))).tree)
    assert list(rows) == [SDG7, SDG9, SDG12, DEBRIS, EQUITY]
    assert rows[SDG7][:3] == ["100.0", "90.0 – 100.0", "90%"]
    assert rows[SDG9][:3] == ["100.0", "100.0 – 100.0", "100%"]
    assert rows[DEBRIS][:3] == ["30.0", "30.0 – 30.0", "100%"]
    assert rows[EQUITY][:3] == ["0.0", "0.0 – 10.0", "90%"]


def test_a_risk_criterion_rated_4_shows_a_severe_flag_and_at_least_high_level(admin_client):
    project = capped_project()
    rows = score_card_rows(ProjectPage.of(admin_client.get(change_url(project))).tree)
    debris_level, equity_level = rows[DEBRIS][3], rows[EQUITY][3]
    assert debris_level.startswith("High")
    assert "severe" in debris_level
    assert equity_level == "Low"


def test_score_card_is_read_only_on_the_project_page(admin_client):
    project = capped_project()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    block = page.tree.find("div", class_="field-score_card")
    assert block.find_all("div", class_="readonly")
    assert not block.find_all("input") and not block.find_all("select") and not block.find_all("textarea")
    assert not [name for name in page.data if "score" in name]


def test_posting_score_fields_does_not_change_the_stored_card(admin_client):
    project = capped_project()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    data = {**page.post_data(), "score_card": ["forged"], "current_score": ["999"], "grade": ["A"]}

    response = admin_client.post(change_url(project), data)

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.current_score.grade == "D"
    assert project.score_history.count() == 1


def test_insufficient_data_shows_no_grade_but_the_ranges(admin_client):
    # Only S7.1 = 2 (w3 of 10): sdg7 coverage 30%, low 25·6/10 = 15, high 25·(6 + 28)/10 = 85
    project = imported("sparse", assessments=ratings()[:1])
    page = ProjectPage.of(admin_client.get(change_url(project)))
    text = score_card_text(page.tree)
    assert "Grade —" in text
    assert "net score —" in text
    assert "status Insufficient data" in text
    assert score_card_rows(page.tree)[SDG7][:3] == ["—", "15.0 – 85.0", "30%"]


def test_score_history_lists_each_card_with_its_method(admin_client):
    project = imported("history", assessments=ratings())
    imported("history", assessments=ratings(**{"S7_1": 4}))
    page = ProjectPage.of(admin_client.get(change_url(project)))
    history = page.tree.find("div", class_="field-score_history").find("tbody").find_all("tr")
    assert len(history) == 2
    assert all(row.find_all("td")[1].clean_text == "1.0" for row in history)
