"""The publish preview shows what the reviewer approves: every rating and fact that differs from
the last publication, the justification diffed word by word, and who changed it, through which
channel and when (projects.admin.review_diff, review_diff.html).

alpha: all 25 criteria at 2 (evidence "Illustrative evidence.", grade B), published once by
import as publication #1.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from projects import actors
from projects.admin.review_diff import ADDED, REMOVED, SAME, Piece, review_diff, word_diff
from projects.admin.score_card import score_explanation
from projects.interchange.importer import projects_import
from projects.models import ApiKey, Project
from projects.services.publication import project_withdraw
from tests.conftest import interchange, project_record
from tests.support.actors import key_owner, reviewer_user
from tests.support.criteria import ALL_CODES

from .pages import SheetPage, parse, ratings, sheet_url
from .test_publication import edit_in_the_admin, member, publish_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(db):
    return member("ana", "analyst")


@pytest.fixture
def reviewer(db):
    return member("rev", "reviewer")


@pytest.fixture
def alpha(db):
    projects_import(
        interchange(project_record("alpha", name="Alpha Lunar Ice", assessments=ratings())),
        publish=True,
        reviewer=reviewer_user(),
        note="First rating round.",
    )
    return Project.objects.get(slug="alpha")


def preview(client, reviewer, project):
    client.force_login(reviewer)
    response = client.get(publish_url(project))
    assert response.status_code == 200
    return parse(response.content).find("section", class_="publication-preview")


def rating_row(section, code):
    return section.find("div", class_="review-diff").find("tr", **{"data-criterion": code})


def marked(cell, tag) -> list[str]:
    """The texts marked ``tag`` (ins/del) in the cell, without their hidden "added:"/"removed:"."""
    found = []
    for mark in cell.find_all(tag):
        hidden = "".join(span.text for span in mark.find_all("span", class_="visually-hidden"))
        found.append(" ".join(mark.text.replace(hidden, "", 1).split()))
    return found


def test_a_first_publication_lists_every_rating(client, reviewer):
    projects_import(
        interchange(project_record("beta", name="Beta Regolith", assessments=ratings(S9_1=(4, "C")) + []))
    )
    beta = Project.objects.get(slug="beta")

    section = preview(client, reviewer, beta)

    diff = section.find("div", class_="review-diff")
    assert "Every rating this first publication makes public" in diff.clean_text
    rows = diff.find("table", class_="review-diff-ratings").find("tbody").find_all("tr")
    assert [row.attrs["data-criterion"] for row in rows] == ALL_CODES
    assert len(rows) == 25
    s91 = rating_row(section, "S9.1")
    assert s91.find("td", class_="review-diff-level").clean_text == "4"
    assert s91.find("td", class_="review-diff-justification").clean_text == "Illustrative evidence."
    assert s91.find("td", class_="review-diff-grade").clean_text == "C"
    s71 = rating_row(section, "S7.1")
    assert s71.find("td", class_="review-diff-grade").clean_text == "B"
    assert s71.find("td", class_="review-diff-source").find("a").attrs["href"].startswith("https://")
    assert "via import" in s71.find("td", class_="review-diff-authors").clean_text
    # the score change and the grade stay before the note
    text = section.clean_text
    assert "first publication; net" in text
    assert "Never published" in text


def test_a_justification_edit_shows_removed_and_added_words_with_author_and_channel(
    client, alpha, analyst, reviewer
):
    edit_in_the_admin(
        client,
        analyst,
        alpha,
        code="S7.2",
        level=2,
        justification="Illustrative <b>evidence</b> & the operator's report.",
        grade="B",
    )

    section = preview(client, reviewer, alpha)

    row = rating_row(section, "S7.2")
    cell = row.find("td", class_="review-diff-justification")
    assert marked(cell, "del") == ["evidence."]
    assert marked(cell, "ins") == ["<b>evidence</b> & the operator's report."]
    assert [span.clean_text for span in cell.find_all("span", class_="visually-hidden")] == [
        "removed:",
        "added:",
    ]
    assert not cell.find_all("b")  # the analyst's text is shown, never run as markup
    assert row.find("td", class_="review-diff-level").clean_text == "2"  # the level did not move
    authors = row.find("td", class_="review-diff-authors")
    assert "ana via admin" in authors.clean_text
    assert authors.find("time").attrs["datetime"]
    # only what changed is listed
    diff = section.find("div", class_="review-diff")
    assert "Changed since publication #1" in diff.clean_text
    assert len(diff.find("table", class_="review-diff-ratings").find("tbody").find_all("tr")) == 1


def test_a_level_change_shows_old_and_new(client, alpha, analyst, reviewer):
    edit_in_the_admin(
        client, analyst, alpha, code="S9.1", level="na", justification="No industry here.", grade=""
    )

    row = rating_row(preview(client, reviewer, alpha), "S9.1")

    level = row.find("td", class_="review-diff-level")
    assert (marked(level, "del"), marked(level, "ins")) == (["2"], ["not applicable"])
    grade = row.find("td", class_="review-diff-grade")
    assert (marked(grade, "del"), marked(grade, "ins")) == (["B"], ["—"])


def test_a_fact_change_shows_old_and_new(client, alpha, analyst, reviewer):
    with actors.acting(analyst, actors.Channel.ADMIN):
        alpha.launch_year = 2031
        alpha.save()

    section = preview(client, reviewer, alpha)

    facts = section.find("table", class_="review-diff-facts")
    row = facts.find("tbody").find("tr")
    assert row.find("th").clean_text == "Launch year"
    assert (marked(row, "del"), marked(row, "ins")) == (["2027"], ["2031"])
    assert "ana via admin" in row.clean_text


def test_an_api_change_is_the_key_owners_through_the_api(client, alpha, reviewer):
    _, key = ApiKey.issue(owner=key_owner(), name="Desk sync", scope="write")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    etag = api.get("/api/v1/projects/alpha/assessments/S7.1")["ETag"]
    response = api.put(
        "/api/v1/projects/alpha/assessments/S7.1",
        {"rating": 3, "evidence": "Checked.", "evidence_grade": "A", "source_url": "https://example.org/a"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content[:300]

    row = rating_row(preview(client, reviewer, alpha), "S7.1")

    authors = row.find("td", class_="review-diff-authors").clean_text
    assert authors.startswith("key-owner via API (Desk sync)")
    level = row.find("td", class_="review-diff-level")
    assert (marked(level, "del"), marked(level, "ins")) == (["2"], ["3"])
    source = row.find("td", class_="review-diff-source")
    assert marked(source, "ins") == ["https://example.org/a"]


def test_the_query_count_does_not_grow_with_the_changes(client, alpha, analyst, reviewer):
    def count() -> int:
        client.force_login(reviewer)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(publish_url(alpha)).status_code == 200
        return len(queries)

    edit_in_the_admin(client, analyst, alpha, code="S7.1", level=3)
    one = count()
    client.force_login(analyst)
    page = SheetPage.of(client.get(sheet_url(alpha)))
    for code in ALL_CODES[1:12]:
        page.rate(code, 1, justification=f"Re-read {code}.")
    assert client.post(sheet_url(alpha), page.post_data()).status_code == 302
    with actors.acting(analyst, actors.Channel.SHELL):
        alpha.refresh_from_db()
        alpha.launch_year, alpha.summary = 2030, "Rewritten."
        alpha.save()

    assert len(review_diff(Project.objects.select_related("current_score").get(pk=alpha.pk)).ratings) == 12
    assert count() == one


def test_word_diff_marks_words_and_keeps_spacing():
    assert word_diff("a b c", "a x c") == [
        Piece(SAME, "a "),
        Piece(REMOVED, "b"),
        Piece(ADDED, "x"),
        Piece(SAME, " c"),
    ]
    assert word_diff("", "new text") == [Piece(ADDED, "new text")]
    assert word_diff("same", "same") == [Piece(SAME, "same")]


# --- the score explanation -------------------------------------------------------------------


def equity_high_project(slug="gamma"):
    """SDGs all 4 (A), debris all 0, equity all 3: equity 75 (high, none rated 4), impact 100,
    net 100 × (1 − ½·0) × (1 − ½·0.75) = 62.5 -> B, capped at C by the high equity risk."""
    equity = {code: (3, "C") for code in ("E1", "E2", "E3", "E4", "E5")}
    debris = {code: (0, "C") for code in ("D1", "D2", "D3", "D4", "D5")}
    projects_import(interchange(project_record(slug, assessments=ratings(4, "A", **equity, **debris))))
    return Project.objects.select_related("current_score__methodology").get(slug=slug)


def test_the_explanation_of_a_card_capped_by_a_high_risk_level():
    card = equity_high_project().current_score
    assert (card.net_score, card.grade, card.equity_level) == (62.5, "C", "high")

    assert score_explanation(card.card) == (
        "net = impact 100.0 × debris factor 1.00 × equity factor 0.63 = 62.5; "
        "grade C, capped at C because equity risk is high."
    )


def test_the_explanation_of_a_card_capped_by_a_severe_rating_on_the_project_page(admin_client):
    risk_zero = {code: (0, "D") for code in ("D2", "D3", "D4", "D5", "E1", "E2", "E3", "E5")}
    projects_import(
        interchange(
            project_record(
                "capped", assessments=ratings(4, "A", missing={"S7.4", "E4"}, D1=(4, "D"), **risk_zero)
            )
        )
    )
    project = Project.objects.get(slug="capped")

    page = parse(admin_client.get(f"/admin/projects/project/{project.pk}/change/").content)

    assert page.find("p", class_="score-explanation").clean_text == (
        "net = impact 100.0 × debris factor 0.85 × equity factor 1.00 = 85.0; "
        "grade D, capped at D because a debris criterion is rated 4."
    )


def test_the_preview_explains_the_draft_score_before_the_note(client, reviewer):
    project = equity_high_project()

    client.force_login(reviewer)
    tree = parse(client.get(publish_url(project)).content)

    explanation = tree.find("div", class_="review-diff").find("p", class_="score-explanation")
    assert "= 62.5; grade C, capped at C because equity risk is high." in explanation.clean_text
    text = tree.find("div", id="content").clean_text
    assert text.index("first publication; net 62.5; grade C") < text.index("Note")


def test_an_unscored_card_says_why_it_has_no_net_score():
    projects_import(
        interchange(project_record("delta", assessments=ratings(2, "B", missing={"S7.1", "S7.2", "S7.3"})))
    )
    card = Project.objects.get(slug="delta").current_score
    assert card.status == "insufficient_data"
    assert score_explanation(card.card) == (
        "No net score: not every dimension has enough of its criteria assessed (status: Insufficient data)."
    )


def test_after_a_withdrawal_the_diff_is_against_the_withdrawn_publication(client, alpha, analyst, reviewer):
    edit_in_the_admin(client, analyst, alpha, code="S7.2", level=3)
    with actors.acting(reviewer, actors.Channel.ADMIN):
        project_withdraw(project=alpha, note="Operator disputes S7.2.")

    section = preview(client, reviewer, alpha)

    assert "Changed since publication #1" in section.find("div", class_="review-diff").clean_text
    level = rating_row(section, "S7.2").find("td", class_="review-diff-level")
    assert (marked(level, "del"), marked(level, "ins")) == (["2"], ["3"])
    assert "ana via admin" in rating_row(section, "S7.2").clean_text
