"""The project add/change pages: ratings grouped by dimension, saved with one new score card.

Expected scores are worked out by hand from METHODOLOGY.md §2–§4 (weights per dimension in spec
order: sdg7 3 2 2 1 2, sdg9 3 2 2 1 2, sdg12 2 3 2 2 2, debris 3 2 2 1 2, equity 2 3 2 1 2;
a dimension rated r everywhere has value 25·r; N = I·(1 − R_debris/200)·(1 − R_equity/200)).
"""

import json
from pathlib import Path

import pytest

from projects.models import Assessment, Project, ScoreCard

from .pages import (
    ADD_URL,
    ALL_CODES,
    CODES,
    ProjectPage,
    cell,
    change_url,
    errors_in,
    field_errors,
    field_label,
    imported,
    ratings,
)

pytestmark = pytest.mark.django_db

METHOD_FILE = Path(__file__).resolve().parents[2] / "projects" / "methodology" / "1.0.json"
SPEC_WEIGHTS = {
    "S7.1": 3, "S7.2": 2, "S7.3": 2, "S7.4": 1, "S7.5": 2,
    "S9.1": 3, "S9.2": 2, "S9.3": 2, "S9.4": 1, "S9.5": 2,
    "S12.1": 2, "S12.2": 3, "S12.3": 2, "S12.4": 2, "S12.5": 2,
    "D1": 3, "D2": 2, "D3": 2, "D4": 1, "D5": 2,
    "E1": 2, "E2": 3, "E3": 2, "E4": 1, "E5": 2,
}  # fmt: skip
DIMENSION_HEADINGS = {
    "sdg7": "SDG 7 Affordable and clean energy",
    "sdg9": "SDG 9 Industry, innovation and infrastructure",
    "sdg12": "SDG 12 Responsible consumption and production",
    "debris": "Orbital debris and surface-ejecta risk",
    "equity": "Equity and non-appropriation risk",
}


def level_texts() -> dict[str, list[str]]:
    data = json.loads(METHOD_FILE.read_text(encoding="utf-8"))
    return {criterion["code"]: criterion["levels"]["en"] for criterion in data["criteria"]}


def inline_groups(page: ProjectPage) -> dict[str, list]:
    """Heading of each inline group -> the criterion cells of its rows, in page order."""
    groups = {}
    for group in page.tree.find_all("div", class_="inline-group"):
        heading = group.find("h2").clean_text
        rows = [row for row in group.find_all("tr", class_="form-row") if "empty-form" not in row.classes]
        groups[heading] = [row.find("td", class_="field-criterion") for row in rows]
    return groups


def assert_every_criterion_shown_with_weight_and_levels(page: ProjectPage, *, in_spec_order=True):
    """Rated criteria come first on a change page, the missing ones after them, so the order
    within a dimension is only checked where nothing is rated yet."""
    texts = level_texts()
    groups = inline_groups(page)
    assert list(groups) == [DIMENSION_HEADINGS[key] for key in CODES]
    for key, codes in CODES.items():
        cells = groups[DIMENSION_HEADINGS[key]]
        shown_codes = [td.find("strong").clean_text for td in cells]
        assert (shown_codes == list(codes)) if in_spec_order else (sorted(shown_codes) == sorted(codes))
        for td in cells:
            code = td.find("strong").clean_text
            assert f"weight {SPEC_WEIGHTS[code]}" in td.clean_text, code
            shown = [" ".join(li.text.split()) for li in td.find_all("li")]
            assert shown == [" ".join(text.split()) for text in texts[code]], code


def test_method_file_has_the_level_texts_the_page_is_checked_against():
    texts = level_texts()
    assert sorted(texts) == sorted(ALL_CODES)
    assert texts["S7.1"][4] == (
        "Operational on-site production supplies propellant or energy carriers "
        "that other missions actually use."
    )
    assert all(len(levels) == 5 and all(text.strip() for text in levels) for levels in texts.values())


def test_add_page_shows_every_criterion_with_weight_and_five_level_texts_by_dimension(admin_client):
    page = ProjectPage.of(admin_client.get(ADD_URL))
    assert_every_criterion_shown_with_weight_and_levels(page)
    s7_1 = inline_groups(page)[DIMENSION_HEADINGS["sdg7"]][0]
    assert "No production of propellant or energy carriers from local resources" in s7_1.clean_text
    assert "A pilot plant has produced propellant or energy carriers on site" in s7_1.clean_text


def test_change_page_shows_every_criterion_rated_or_not_with_weight_and_level_texts(admin_client):
    project = imported(assessments=ratings(missing={"S7.4", "D5", "E1"}))
    page = ProjectPage.of(admin_client.get(change_url(project)))
    assert_every_criterion_shown_with_weight_and_levels(page, in_spec_order=False)
    assert page.data[f"{page.row_prefix('S7.1')}-rating"] == ["2"]
    assert page.data[f"{page.row_prefix('S7.4')}-rating"] == [""]


def test_rating_choices_offer_not_assessed_not_applicable_and_the_five_levels(admin_client):
    project = imported()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    select = page.tree.find("select", name=f"{page.row_prefix('D5')}-rating")
    values = [option.attrs["value"] for option in select.find_all("option")]
    assert values == ["", "na", "0", "1", "2", "3", "4"]
    assert "not assessed" in select.find_all("option")[0].clean_text


def test_adding_a_project_with_ratings_stores_them_and_one_score_card(admin_client, admin_user):
    page = ProjectPage.of(admin_client.get(ADD_URL))
    operator = imported("seed").operator  # an operator to choose
    page.data.update(
        name=["Polar Ice Prospector"],
        slug=["polar-ice-prospector"],
        operator=[str(operator.pk)],
        target_body=["moon"],
        phase=["prospecting"],
        launch_year=["2028"],
        resources=["water_ice"],
    )
    for code in CODES["sdg7"]:
        page.rate(code, 3, grade="A")
    page.rate("D5", "na")
    cards_before = ScoreCard.objects.count()

    response = admin_client.post(ADD_URL, page.post_data())

    assert response.status_code == 302, errors_in(ProjectPage.of(response).tree)
    project = Project.objects.get(slug="polar-ice-prospector")
    assessments = {a.criterion.code: a for a in project.assessments.select_related("criterion")}
    assert sorted(assessments) == sorted([*CODES["sdg7"], "D5"])
    assert assessments["S7.1"].level == 3 and assessments["S7.1"].evidence_grade == "A"
    assert assessments["D5"].not_applicable and assessments["D5"].level is None
    assert assessments["S7.1"].assessed_by == admin_user
    assert ScoreCard.objects.count() == cards_before + 1
    card = project.current_score.card
    assert project.current_score.status == "insufficient_data"  # sdg9, sdg12, equity not assessed
    assert card["dimensions"]["sdg7"]["value"] == 75.0
    assert card["dimensions"]["sdg7"]["coverage"] == 1.0
    # D5 (w2) not applicable, D1–D4 missing: coverage 0 of the remaining 8
    assert card["dimensions"]["debris"]["coverage"] == 0.0


def test_saving_several_rating_changes_updates_the_score_card_once(admin_client):
    # All 25 criteria at level 2 (grade B): every dimension 50, N = 50·0.75·0.75 = 28.1, grade D.
    project = imported(assessments=ratings())
    assert (project.current_score.net_score, project.current_score.grade) == (28.1, "D")
    history_before = project.score_history.count()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    page.rate("S7.1", 4, grade="A", justification="ISRU plant supplies landers.", url="https://example.org/r")
    page.rate("S9.1", 4, grade="A")
    page.rate("D1", 0)
    page.rate("E2", 0)

    response = admin_client.post(change_url(project), page.post_data())

    assert response.status_code == 302, errors_in(ProjectPage.of(response).tree)
    project.refresh_from_db()
    assert project.score_history.count() == history_before + 1
    s7_1 = project.assessments.get(criterion__code="S7.1")
    assert (s7_1.level, s7_1.evidence_grade) == (4, "A")
    assert (s7_1.justification, s7_1.source_url) == ("ISRU plant supplies landers.", "https://example.org/r")
    card = project.current_score
    assert card == project.score_history.first()
    # sdg7 = sdg9 = 25·(4·3 + 2·7)/10 = 65, sdg12 = 50, I = 60
    # debris = equity = 25·(0·3 + 2·7)/10 = 35 (moderate); N = 60·0.825·0.825 = 40.8375
    assert (card.sdg7, card.sdg9, card.sdg12) == (65.0, 65.0, 50.0)
    assert (card.debris, card.equity) == (35.0, 35.0)
    assert (card.debris_level, card.equity_level) == ("moderate", "moderate")
    assert card.net_score == 40.8
    assert (card.net_low, card.net_high) == (40.8, 40.8)
    assert card.grade == "C"
    assert card.status == "rated"
    # confidence: sdg7, sdg9 (3·1 + 7·0.75)/10 = 0.825; others 0.75; mean 0.78 -> high
    assert card.confidence == "high"


def test_resaving_an_unchanged_project_adds_no_score_card(admin_client):
    project = imported(assessments=ratings())
    page = ProjectPage.of(admin_client.get(change_url(project)))
    cards_before = ScoreCard.objects.count()

    response = admin_client.post(change_url(project), page.post_data())

    assert response.status_code == 302, errors_in(ProjectPage.of(response).tree)
    assert ScoreCard.objects.count() == cards_before
    assert Assessment.objects.filter(project=project).count() == 25


def test_choosing_not_assessed_deletes_the_rating_and_lowers_coverage(admin_client):
    project = imported(assessments=ratings())
    page = ProjectPage.of(admin_client.get(change_url(project)))
    page.clear("E5")

    response = admin_client.post(change_url(project), page.post_data())

    assert response.status_code == 302, errors_in(ProjectPage.of(response).tree)
    assert not Assessment.objects.filter(project=project, criterion__code="E5").exists()
    assert Assessment.objects.filter(project=project).count() == 24
    project.refresh_from_db()
    equity = project.current_score.card["dimensions"]["equity"]
    # E5 (w2) missing: coverage 8/10; value 50; low 25·16/10 = 40; high 25·(16 + 8)/10 = 60
    assert equity["coverage"] == 0.8
    assert (equity["value"], equity["low"], equity["high"]) == (50.0, 40.0, 60.0)
    assert project.current_score.status == "rated"


def test_clearing_ratings_below_half_coverage_makes_the_project_insufficient_data(admin_client):
    project = imported(assessments=ratings())
    page = ProjectPage.of(admin_client.get(change_url(project)))
    for code in ("E2", "E3", "E5"):  # weights 3 + 2 + 2 of 10 -> coverage 0.3
        page.clear(code)

    response = admin_client.post(change_url(project), page.post_data())

    assert response.status_code == 302, errors_in(ProjectPage.of(response).tree)
    project.refresh_from_db()
    card = project.current_score
    assert card.card["dimensions"]["equity"]["coverage"] == pytest.approx(0.3)
    assert card.status == "insufficient_data"
    assert (card.grade, card.net_score, card.equity) == ("", None, None)
    assert project.score_history.count() == 2


def test_not_applicable_is_stored_without_level_and_leaves_the_dimension(admin_client):
    project = imported(assessments=ratings())
    page = ProjectPage.of(admin_client.get(change_url(project)))
    page.rate("D5", "na", justification="", grade="")
    page.rate("D1", 4)

    response = admin_client.post(change_url(project), page.post_data())

    assert response.status_code == 302, errors_in(ProjectPage.of(response).tree)
    d5 = project.assessments.get(criterion__code="D5")
    assert (d5.not_applicable, d5.level) == (True, None)
    project.refresh_from_db()
    debris = project.current_score.card["dimensions"]["debris"]
    # D5 leaves the dimension: 25·(4·3 + 2·(2 + 2 + 1))/8 = 68.75, coverage 1.0, severe
    assert debris["value"] == 68.8
    assert debris["coverage"] == 1.0
    assert debris["severe"] is True


def test_a_failing_rescore_rolls_back_the_rating_changes_of_the_save(admin_client, monkeypatch):
    from projects.services import scoring as scoring_service

    project = imported(assessments=ratings())
    page = ProjectPage.of(admin_client.get(change_url(project)))
    page.rate("S7.1", 4)
    page.clear("E5")

    def broken_score(*args, **kwargs):
        raise RuntimeError("engine down")

    monkeypatch.setattr(scoring_service.scoring, "score", broken_score)
    with pytest.raises(RuntimeError, match="engine down"):
        admin_client.post(change_url(project), page.post_data())

    assert project.assessments.get(criterion__code="S7.1").level == 2
    assert project.assessments.filter(criterion__code="E5").exists()
    assert project.score_history.count() == 1


def _post_expecting_errors(client, project, page):
    assessments = list(Assessment.objects.order_by("pk").values())
    cards = list(ScoreCard.objects.order_by("pk").values_list("pk", flat=True))
    response = client.post(change_url(project), page.post_data())
    assert response.status_code == 200
    assert list(Assessment.objects.order_by("pk").values()) == assessments
    assert list(ScoreCard.objects.order_by("pk").values_list("pk", flat=True)) == cards
    return ProjectPage.of(response)


def test_rated_row_without_justification_is_refused_next_to_the_justification(admin_client):
    project = imported()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    page.data["name"] = ["Renamed"]
    prefix = page.rate("S7.1", 3, justification="   ", grade="B")
    page.rate("S7.2", 2)  # a valid row saved with it must not be stored either

    shown = _post_expecting_errors(admin_client, project, page)

    row = shown.row(prefix)
    assert "A rated criterion needs a justification." in errors_in(cell(row, "justification"))
    assert errors_in(cell(row, "evidence_grade")) == []
    assert shown.tree.find(class_="errornote")
    assert not Assessment.objects.filter(project=project).exists()
    assert Project.objects.get(pk=project.pk).name == project.name


def test_rated_row_without_evidence_grade_is_refused_next_to_the_evidence_grade(admin_client):
    project = imported()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    prefix = page.rate("E2", 1, justification="Safety zone announced.", grade="")

    shown = _post_expecting_errors(admin_client, project, page)

    row = shown.row(prefix)
    assert "A rated criterion needs an evidence grade (A, B, C or D)." in errors_in(
        cell(row, "evidence_grade")
    )
    assert not Assessment.objects.filter(project=project).exists()


def test_changing_an_existing_rating_to_invalid_keeps_the_stored_rating(admin_client):
    project = imported(assessments=ratings())
    page = ProjectPage.of(admin_client.get(change_url(project)))
    prefix = page.rate("S9.3", 4, justification="", grade="A")

    shown = _post_expecting_errors(admin_client, project, page)

    assert "A rated criterion needs a justification." in errors_in(cell(shown.row(prefix), "justification"))
    assert project.assessments.get(criterion__code="S9.3").level == 2


def test_a_level_of_five_is_refused_next_to_the_rating(admin_client):
    project = imported()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    prefix = page.rate("S12.1", 5)

    shown = _post_expecting_errors(admin_client, project, page)

    assert errors_in(cell(shown.row(prefix), "rating"))
    assert not Assessment.objects.filter(project=project).exists()


def test_a_level_of_five_on_a_stored_rating_is_refused_and_keeps_the_rating(admin_client):
    project = imported(assessments=ratings())
    page = ProjectPage.of(admin_client.get(change_url(project)))
    prefix = page.rate("S12.1", 5)

    shown = _post_expecting_errors(admin_client, project, page)

    assert errors_in(cell(shown.row(prefix), "rating"))
    assert project.assessments.get(criterion__code="S12.1").level == 2


def test_evidence_without_a_rating_on_a_new_row_asks_for_a_level(admin_client):
    project = imported()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    prefix = page.rate("S9.2", "", justification="Relay offered to others.", grade="B")

    shown = _post_expecting_errors(admin_client, project, page)

    assert errors_in(cell(shown.row(prefix), "rating"))
    assert not Assessment.objects.filter(project=project).exists()


def test_launch_year_1800_is_refused_with_an_error_at_the_launch_year(admin_client):
    project = imported()
    page = ProjectPage.of(admin_client.get(change_url(project)))
    page.data["launch_year"] = ["1800"]

    shown = _post_expecting_errors(admin_client, project, page)

    assert field_label(shown.tree, "launch_year") == "Launch year:"
    assert any("1957" in message for message in field_errors(shown.tree, "launch_year"))
    assert Project.objects.get(pk=project.pk).launch_year == 2027
