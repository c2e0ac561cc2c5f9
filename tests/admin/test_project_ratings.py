"""Rating a project in the admin: the rating sheet shows every criterion by dimension and saves
all the changes of one page with one new score card.

Expected scores are worked out by hand from docs/scoring.md (weights per dimension in spec
order: sdg7 3 2 2 1 2, sdg9 3 2 2 1 2, sdg12 2 3 2 2 2, debris 3 2 2 1 2, equity 2 3 2 1 2;
a dimension rated r everywhere has value 25·r; N = I·(1 − R_debris/200)·(1 − R_equity/200)).
"""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from projects.models import Assessment, Change, Project, ScoreCard
from tests.support.criteria import ALL_CODES, CODES, WEIGHTS

from .pages import (
    ADD_URL,
    ProjectPage,
    SheetPage,
    errors_in,
    field_errors,
    field_label,
    imported,
    parse,
    ratings,
    sheet_url,
)

pytestmark = pytest.mark.django_db

METHOD_FILE = Path(__file__).resolve().parents[2] / "projects" / "methodology" / "1.0.json"
DIMENSION_HEADINGS = {
    "sdg7": "SDG 7 Affordable and clean energy",
    "sdg9": "SDG 9 Industry, innovation and infrastructure",
    "sdg12": "SDG 12 Responsible consumption and production",
    "debris": "Orbital debris and surface-ejecta risk",
    "equity": "Equity and non-appropriation risk",
}


def method_criteria() -> dict[str, dict]:
    data = json.loads(METHOD_FILE.read_text(encoding="utf-8"))
    return {criterion["code"]: criterion for criterion in data["criteria"]}


def level_texts(language="en") -> dict[str, list[str]]:
    return {code: criterion["levels"][language] for code, criterion in method_criteria().items()}


def analyst(name="ana"):
    user = get_user_model().objects.create_user(name, password="pw-" + name, is_staff=True)
    user.groups.add(Group.objects.get(name="analyst"))
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sections(page: SheetPage) -> dict[str, list[str]]:
    """Heading of each dimension's section -> the codes of its criteria, in page order."""
    found = {}
    for section in page.tree.find_all("section", class_="sheet-dimension"):
        heading = section.find("h2").clean_text
        codes = [legend.find(class_="criterion-code").clean_text for legend in section.find_all("legend")
                 if legend.find_all(class_="criterion-code")]  # fmt: skip
        found[heading] = codes
    return found


def level_labels(page: SheetPage, code: str) -> list[str]:
    """The texts beside the criterion's radio buttons, in page order."""
    labels = page.criterion(code).find_all("label", class_="sheet-level")
    return [label.find(class_="level-text").clean_text for label in labels]


def test_method_file_has_the_level_texts_the_page_is_checked_against():
    texts = level_texts()
    assert sorted(texts) == sorted(ALL_CODES)
    assert texts["S7.1"][4] == (
        "Operational on-site production supplies propellant or energy carriers "
        "that other missions actually use."
    )
    assert all(len(levels) == 5 and all(text.strip() for text in levels) for levels in texts.values())


@pytest.mark.parametrize("rated", [False, True], ids=["new project", "partly rated project"])
def test_the_sheet_shows_every_criterion_in_method_order_with_weight_targets_description_and_full_levels(
    admin_client, rated
):
    project = imported(assessments=ratings(missing={"S7.4", "D5", "E1"}) if rated else [])
    page = SheetPage.of(admin_client.get(sheet_url(project)))

    shown = sections(page)
    risk = {"debris", "equity"}
    assert list(shown) == [
        f"{heading} risk: 0 = no risk" if key in risk else heading
        for key, heading in DIMENSION_HEADINGS.items()
    ]
    assert list(shown.values()) == [list(codes) for codes in CODES.values()]
    criteria = method_criteria()
    for code in ALL_CODES:
        text = page.criterion(code).clean_text
        assert f"weight {WEIGHTS[code]}" in text, code
        assert criteria[code]["references"] in text, code
        assert " ".join(criteria[code]["description"]["en"].split()) in text, code
        # the full level texts, never cut, then "not applicable" and "not assessed"
        expected = [" ".join(level.split()) for level in criteria[code]["levels"]["en"]]
        assert level_labels(page, code) == [*expected, "not applicable", "not assessed"], code


def test_the_rating_choices_are_the_five_levels_not_applicable_and_not_assessed(admin_client):
    project = imported(assessments=ratings(missing={"S7.4"}))
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    radios = page.criterion("D5").find_all("input", type="radio")
    assert [radio.attrs["value"] for radio in radios] == ["0", "1", "2", "3", "4", "na", ""]
    assert page.rating("D5") == ["2"]
    assert page.rating("S7.4") == [""]  # missing: "not assessed" is chosen


def test_the_levels_and_names_follow_the_language_of_the_request(admin_client):
    project = imported()
    page = SheetPage.of(admin_client.get(sheet_url(project), HTTP_ACCEPT_LANGUAGE="ja"))
    japanese = method_criteria()["S9.1"]
    assert level_labels(page, "S9.1")[:5] == [" ".join(text.split()) for text in japanese["levels"]["ja"]]
    assert japanese["name"]["ja"] in page.criterion("S9.1").find("legend").clean_text


def test_every_sheet_input_has_a_name_a_person_can_hear(admin_client):
    project = imported(assessments=ratings(missing={"E2"}))
    tree = SheetPage.of(admin_client.get(sheet_url(project))).tree
    form = tree.find("form", id="rating_sheet")
    fields = [
        element
        for element in form.iter()
        if element.tag in ("input", "select", "textarea")
        and element.attrs.get("type") not in ("hidden", "submit")
    ]
    assert len(fields) == 25 * (7 + 4)  # seven radio buttons and four evidence fields per criterion
    for element in fields:
        labels = tree.find_all("label", **{"for": element.attrs["id"]})
        assert len(labels) == 1 and labels[0].clean_text, element.attrs
    for code in ALL_CODES:  # each radio group has its legend naming the criterion
        legend = SheetPage(tree, {}).criterion(code).find("fieldset", class_="sheet-levels").find("legend")
        assert code in legend.clean_text
    justification = field_label(tree, "E2-justification")
    assert justification == "Justification (E2)"


def test_risk_criteria_say_in_words_that_0_means_no_risk(admin_client):
    project = imported()
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    for code in [*CODES["debris"], *CODES["equity"]]:
        levels = page.criterion(code).find("fieldset", class_="sheet-levels").find("legend").clean_text
        assert levels == f"Risk rating of {code} (0 = no risk)"
        assert "0 = no risk, 4 = highest risk" in page.criterion(code).clean_text
    for code in CODES["sdg7"]:
        assert "no risk" not in page.criterion(code).clean_text


def test_adding_a_project_opens_its_rating_sheet_and_one_save_rates_it(admin_client, admin_user):
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
    response = admin_client.post(ADD_URL, page.post_data())
    project = Project.objects.get(slug="polar-ice-prospector")
    assert response.status_code == 302 and response.url == sheet_url(project)

    sheet = SheetPage.of(admin_client.get(response.url))
    assert "0 of 25 criteria rated" in sheet.tree.find(class_="sheet-intro").clean_text
    for code in CODES["sdg7"]:
        sheet.rate(code, 3, grade="A", url="https://example.org/plant")
    sheet.rate("D5", "na", justification="Nothing is launched by this project.", grade="")
    cards_before = ScoreCard.objects.count()

    response = admin_client.post(sheet_url(project), sheet.post_data())

    assert response.status_code == 302, errors_in(SheetPage.of(response).tree)
    assessments = {a.criterion.code: a for a in project.assessments.select_related("criterion")}
    assert sorted(assessments) == sorted([*CODES["sdg7"], "D5"])
    assert assessments["S7.1"].level == 3 and assessments["S7.1"].evidence_grade == "A"
    assert assessments["D5"].not_applicable and assessments["D5"].level is None
    assert assessments["S7.1"].assessed_by == admin_user
    assert ScoreCard.objects.count() == cards_before + 1
    project.refresh_from_db()
    card = project.current_score.card
    assert project.current_score.status == "insufficient_data"  # sdg9, sdg12, equity not assessed
    assert card["dimensions"]["sdg7"]["value"] == 75.0
    assert card["dimensions"]["sdg7"]["coverage"] == 1.0
    # D5 (w2) not applicable, D1–D4 missing: coverage 0 of the remaining 8
    assert card["dimensions"]["debris"]["coverage"] == 0.0


def test_save_and_add_another_on_the_add_form_stays_with_adding(admin_client):
    page = ProjectPage.of(admin_client.get(ADD_URL))
    operator = imported("seed").operator
    page.data.update(name=["Second"], slug=["second"], operator=[str(operator.pk)], target_body=["moon"],
                     phase=["concept"])  # fmt: skip
    response = admin_client.post(ADD_URL, {**page.data, "_addanother": ["1"]})
    assert response.status_code == 302 and response.url == ADD_URL


def test_the_change_page_has_no_rating_rows_but_a_summary_and_the_way_to_the_sheet(admin_client):
    project = imported(assessments=ratings(missing={"S7.4", "D5"}, S9_1=4))
    page = ProjectPage.of(admin_client.get(f"/admin/projects/project/{project.pk}/change/"))
    assert not [name for name in page.data if name.endswith("-rating") or "assessment" in name]
    link = page.tree.find("a", class_="rating-sheet-link")
    assert link.attrs["href"] == sheet_url(project)
    assert link.clean_text == "Rate on the rating sheet (23 of 25 rated)"
    summary = {
        tr.find("th").clean_text: tr.find("td").clean_text
        for tr in page.tree.find("table", class_="ratings-summary").find_all("tr")
    }
    assert summary[DIMENSION_HEADINGS["sdg9"]].startswith("S9.1 4 S9.2 2")
    assert "S7.4 —" in summary[DIMENSION_HEADINGS["sdg7"]]


def test_saving_several_rating_changes_updates_the_score_card_once(admin_client):
    # All 25 criteria at level 2 (grade B): every dimension 50, N = 50·0.75·0.75 = 28.1, grade D.
    project = imported(assessments=ratings(grade="C"))
    assert (project.current_score.net_score, project.current_score.grade) == (28.1, "D")
    history_before = project.score_history.count()
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("S7.1", 4, grade="A", justification="ISRU plant supplies landers.", url="https://example.org/r")
    page.rate("S9.1", 4, grade="A", url="https://example.org/s")
    page.rate("D1", 0, grade="C")
    page.rate("E2", 0, grade="C")

    response = admin_client.post(sheet_url(project), page.post_data())

    assert response.status_code == 302, errors_in(SheetPage.of(response).tree)
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
    assert card.grade == "C"
    assert card.status == "rated"


def test_resaving_an_unchanged_sheet_changes_nothing_not_even_the_assessor(admin_client):
    project = imported(assessments=ratings(grade="C"))
    # A multi-line justification comes back from a browser with CRLF line breaks: no change.
    with_lines = project.assessments.get(criterion__code="S7.2")
    with_lines.justification = "First line.\nSecond line."
    with_lines.save()
    assessors = dict(project.assessments.values_list("criterion__code", "assessed_by"))
    changes_before, cards_before = Change.objects.count(), ScoreCard.objects.count()
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.data["S7_2-justification"] = ["First line.\r\nSecond line.\r\n"]

    response = admin_client.post(sheet_url(project), page.post_data())

    assert response.status_code == 302, errors_in(SheetPage.of(response).tree)
    assert ScoreCard.objects.count() == cards_before
    assert Change.objects.count() == changes_before
    assert dict(project.assessments.values_list("criterion__code", "assessed_by")) == assessors
    assert project.assessments.get(criterion__code="S7.2").justification == "First line.\nSecond line."
    assert Assessment.objects.filter(project=project).count() == 25


def test_only_the_changed_criterion_gets_the_analyst_as_assessor_and_a_logged_change():
    project = imported(assessments=ratings(grade="C"))
    ana = analyst()
    client = logged_in(ana)
    page = SheetPage.of(client.get(sheet_url(project)))
    page.rate("S12.3", 4, grade="C", justification="Recycled.")

    response = client.post(sheet_url(project), page.post_data())

    assert response.status_code == 302, errors_in(SheetPage.of(response).tree)
    assert list(project.assessments.filter(assessed_by=ana).values_list("criterion__code", flat=True)) == [
        "S12.3"
    ]
    logged = Change.objects.filter(project=project, actor=ana)
    assert [(c.kind, c.subject, c.channel) for c in logged] == [("rating", "S12.3", "admin")]


@pytest.mark.parametrize("who", ["analyst", "superuser"])
def test_choosing_not_assessed_removes_the_rating_and_lowers_coverage(admin_client, who):
    """Analysts may not delete records, but removing a rating is a change of it: they may."""
    project = imported(assessments=ratings())
    client = logged_in(analyst()) if who == "analyst" else admin_client
    page = SheetPage.of(client.get(sheet_url(project)))
    page.clear("E5")

    response = client.post(sheet_url(project), page.post_data())

    assert response.status_code == 302, errors_in(SheetPage.of(response).tree)
    assert not Assessment.objects.filter(project=project, criterion__code="E5").exists()
    assert Assessment.objects.filter(project=project).count() == 24
    removal = Change.objects.filter(project=project, subject="E5").latest("id")
    assert removal.new is None and removal.actor.username == ("ana" if who == "analyst" else "admin")
    project.refresh_from_db()
    equity = project.current_score.card["dimensions"]["equity"]
    # E5 (w2) missing: coverage 8/10; value 50; low 25·16/10 = 40; high 25·(16 + 8)/10 = 60
    assert equity["coverage"] == 0.8
    assert (equity["value"], equity["low"], equity["high"]) == (50.0, 40.0, 60.0)
    assert project.current_score.status == "rated"


def test_clearing_ratings_below_half_coverage_makes_the_project_insufficient_data(admin_client):
    project = imported(assessments=ratings())
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    for code in ("E2", "E3", "E5"):  # weights 3 + 2 + 2 of 10 -> coverage 0.3
        page.clear(code)

    response = admin_client.post(sheet_url(project), page.post_data())

    assert response.status_code == 302, errors_in(SheetPage.of(response).tree)
    project.refresh_from_db()
    card = project.current_score
    assert card.card["dimensions"]["equity"]["coverage"] == pytest.approx(0.3)
    assert card.status == "insufficient_data"
    assert (card.grade, card.net_score, card.equity) == ("", None, None)
    assert project.score_history.count() == 2


def test_not_applicable_is_stored_without_level_and_leaves_the_dimension(admin_client):
    project = imported(assessments=ratings(grade="C"))
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("D5", "na", justification="The project launches nothing of its own.", grade="")
    page.rate("D1", 4, grade="C")

    response = admin_client.post(sheet_url(project), page.post_data())

    assert response.status_code == 302, errors_in(SheetPage.of(response).tree)
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

    project = imported(assessments=ratings(grade="C"))
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("S7.1", 4, grade="C")
    page.clear("E5")

    def broken_score(*args, **kwargs):
        raise RuntimeError("engine down")

    monkeypatch.setattr(scoring_service.scoring, "score", broken_score)
    with pytest.raises(RuntimeError, match="engine down"):
        admin_client.post(sheet_url(project), page.post_data())

    assert project.assessments.get(criterion__code="S7.1").level == 2
    assert project.assessments.filter(criterion__code="E5").exists()
    assert project.score_history.count() == 1


def _post_expecting_errors(client, project, page: SheetPage) -> SheetPage:
    assessments = list(Assessment.objects.order_by("pk").values())
    cards = list(ScoreCard.objects.order_by("pk").values_list("pk", flat=True))
    response = client.post(sheet_url(project), page.post_data())
    assert response.status_code == 200
    assert list(Assessment.objects.order_by("pk").values()) == assessments
    assert list(ScoreCard.objects.order_by("pk").values_list("pk", flat=True)) == cards
    return SheetPage.of(response)


def test_rated_criterion_without_justification_is_refused_beside_the_justification_and_nothing_saved(
    admin_client,
):
    project = imported()
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("S7.1", 3, justification="   ", grade="C")
    page.rate("S7.2", 2, grade="C")  # a valid criterion saved with it must not be stored either

    shown = _post_expecting_errors(admin_client, project, page)

    assert field_errors(shown.tree, "S7_1-justification") == ["A rated criterion needs a justification."]
    assert field_errors(shown.tree, "S7_1-evidence_grade") == []
    assert errors_in(shown.criterion("S7.1")) == ["A rated criterion needs a justification."]  # once
    assert errors_in(shown.criterion("S7.2")) == []
    assert "1 criterion needs a correction" in shown.tree.find(class_="sheet-errors").clean_text
    assert not Assessment.objects.filter(project=project).exists()
    # What was typed is all still there.
    assert shown.rating("S7.2") == ["2"] and shown.data["S7_2-evidence_grade"] == ["C"]
    assert shown.rating("S7.1") == ["3"]


def test_rated_criterion_without_evidence_grade_is_refused_beside_the_evidence_grade(admin_client):
    project = imported()
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("E2", 1, justification="Safety zone announced.", grade="")

    shown = _post_expecting_errors(admin_client, project, page)

    assert field_errors(shown.tree, "E2-evidence_grade") == [
        "A rated criterion needs an evidence grade (A, B, C or D)."
    ]
    assert shown.data["E2-justification"] == ["Safety zone announced."]


def test_changing_a_stored_rating_to_an_invalid_one_keeps_the_stored_rating(admin_client):
    project = imported(assessments=ratings())
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("S9.3", 4, justification="", grade="C")

    shown = _post_expecting_errors(admin_client, project, page)

    assert field_errors(shown.tree, "S9_3-justification") == ["A rated criterion needs a justification."]
    assert project.assessments.get(criterion__code="S9.3").level == 2


@pytest.mark.parametrize("stored", [False, True], ids=["new", "stored"])
def test_a_level_of_five_is_refused_beside_the_rating(admin_client, stored):
    project = imported(assessments=ratings() if stored else [])
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("S12.1", 5, grade="C")

    shown = _post_expecting_errors(admin_client, project, page)

    levels = shown.criterion("S12.1").find("fieldset", class_="sheet-levels")
    assert levels.attrs["aria-describedby"] == "id_S12_1-rating_error"
    assert len(errors_in(levels)) == 1


def test_evidence_without_a_rating_on_a_new_criterion_asks_for_a_level(admin_client):
    project = imported()
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("S9.2", "", justification="Relay offered to others.", grade="B")

    shown = _post_expecting_errors(admin_client, project, page)

    assert errors_in(shown.criterion("S9.2")) == ["Choose a level, or “not applicable”."]
    assert shown.data["S9_2-justification"] == ["Relay offered to others."]


def test_an_error_of_the_model_shows_once_beside_the_field_it_concerns(admin_client):
    """Whatever rules the model holds, the sheet shows each of its messages once, beside its field."""
    project = imported()
    page = SheetPage.of(admin_client.get(sheet_url(project)))
    page.rate("S7.3", 2, grade="C", url="ftp://example.org/report")

    shown = _post_expecting_errors(admin_client, project, page)

    messages = errors_in(shown.criterion("S7.3"))
    assert len(messages) == len(set(messages)) == 1
    assert field_errors(shown.tree, "S7_3-source_url") == messages
    assert shown.data["S7_3-source_url"] == ["ftp://example.org/report"]


def test_launch_year_1800_is_refused_with_an_error_at_the_launch_year(admin_client):
    project = imported()
    url = f"/admin/projects/project/{project.pk}/change/"
    page = ProjectPage.of(admin_client.get(url))
    page.data["launch_year"] = ["1800"]

    response = admin_client.post(url, page.post_data())

    assert response.status_code == 200
    tree = parse(response.content)
    assert field_label(tree, "launch_year") == "Launch year:"
    assert any("1957" in message for message in field_errors(tree, "launch_year"))
    assert Project.objects.get(pk=project.pk).launch_year == 2027
