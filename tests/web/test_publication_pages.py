"""The public sees what was last published: an analyst's edit waits for a reviewer, and each
publication appears in the history with what changed and why, in both languages.

alpha: every SDG criterion at 3 and every risk criterion at 0: impact 75, risks 0, net 75.0, A.
The analyst then rates E2 (equity, weight 3 of 10) at 4, the severe level: equity risk 30, net
75 × (1 − 30/200) = 63.75, and the severe rating caps the grade at D.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import translation

from projects import actors
from projects.changes import change_line
from projects.models import Assessment, Project
from projects.services.ratings import assessment_save
from tests.support.actors import publish_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.support.criteria import CODES
from tests.web.pages import page, table_rows

pytestmark = pytest.mark.django_db

NO_RISK = {code: 0 for key in ("debris", "equity") for code in CODES[key]}
NOTE = "E2 re-rated: the operator announced an exclusive zone."


@pytest.fixture
def alpha(db):
    make_project("alpha", name="Alpha", assessments=all_rated(3, **NO_RISK), note="First rating round.")
    make_project("beta", name="Beta", assessments=all_rated(2))
    return Project.objects.get(slug="alpha")


@pytest.fixture
def edited(alpha):
    """An analyst rates E2 at 4; the working card moves, the published one stays."""
    analyst = get_user_model().objects.create_user("ana", is_staff=True)
    analyst.groups.add(Group.objects.get(name="analyst"))
    with actors.acting(analyst, actors.Channel.SHELL):
        assessment = Assessment.objects.get(project=alpha, criterion__code="E2")
        assessment.level = 4
        assessment_save(assessment)
    alpha.refresh_from_db()
    assert (alpha.published_score.grade, f"{alpha.published_score.net_score:.1f}") == ("A", "75.0")
    assert (alpha.current_score.grade, f"{alpha.current_score.net_score:.1f}") == ("D", "63.8")
    return alpha


def headline(client, language="en") -> str:
    return page(client.get(f"/{language}/projects/alpha/")).find("section", class_="score-card").clean_text


def criterion_line(client, code: str) -> str:
    tree = page(client.get("/en/projects/alpha/"))
    return tree.find("li", id=f"criterion-{code.lower()}").find("p", class_="level-line").clean_text


def ranking_row(client, name="Alpha") -> list[str]:
    rows = table_rows(page(client.get("/en/")), "rankings")
    return next(row for row in rows if row[0].startswith(name))


def badge(client) -> str:
    response = client.get("/en/projects/alpha/badge.svg")
    assert response.status_code == 200
    return response.content.decode()


def history(client, language="en") -> list:
    tree = page(client.get(f"/{language}/projects/alpha/"))
    return tree.find("section", class_="history").find("tbody").find_all("tr")


def test_an_analysts_edit_is_not_shown_until_it_is_published(client, edited):
    assert "Grade A" in headline(client) and "75.0 / 100" in headline(client)
    assert criterion_line(client, "E2").startswith("Risk level 0 of 4 (0 = no risk)")
    assert (
        "Severe flag"
        not in page(client.get("/en/projects/alpha/")).find("section", class_="risks").clean_text
    )
    assert ranking_row(client)[2:4] == ["Grade A", "75.0"]  # no range: nothing missing can move it
    assert [row[0].split()[0] for row in table_rows(page(client.get("/en/")), "rankings")] == [
        "Alpha",
        "Beta",
    ]
    assert "A · 75.0" in badge(client) and "63.8" not in badge(client)
    assert "net score 75.0" in page(client.get("/en/operators/")).find("main").clean_text
    assert "評点 A" in headline(client, "ja")
    assert len(history(client)) == 1


def test_after_publishing_the_pages_show_the_new_rating_and_grade(client, edited):
    publish_as_reviewer(project=edited, note=NOTE)

    assert "Grade D" in headline(client) and "63.8 / 100" in headline(client)
    assert criterion_line(client, "E2").startswith("Risk level 4 of 4 (0 = no risk)")
    severe = page(client.get("/en/projects/alpha/")).find("p", class_="severe-explained")
    assert severe.find("a").attrs["href"] == "#criterion-e2"
    row = ranking_row(client)
    assert row[2] == "Grade D" and row[3].startswith("63.8")
    assert "D · 63.8" in badge(client) and "75.0" not in badge(client)
    assert "net score 63.8" in page(client.get("/en/operators/")).find("main").clean_text


def test_the_history_row_says_what_changed_and_why_in_english(client, edited):
    publication = publish_as_reviewer(project=edited, note=NOTE)

    rows = history(client)
    assert len(rows) == 2
    newest, first = rows
    with translation.override("en"):
        expected = change_line(publication.changes)
    assert expected == "E2 0 → 4; net 75.0 → 63.8; grade A → D"
    assert newest.find("td", class_="change-line").clean_text == expected
    assert newest.find_all("td")[-1].clean_text == NOTE
    assert newest.find("time").attrs["datetime"] == publication.published_at.isoformat()
    assert first.find("td", class_="change-line").clean_text == "first publication; net 75.0; grade A"
    assert first.find_all("td")[-1].clean_text == "First rating round."


def test_the_history_row_says_what_changed_in_japanese_on_the_japanese_page(client, edited):
    publication = publish_as_reviewer(project=edited, note=NOTE)

    newest, first = history(client, "ja")
    with translation.override("ja"):
        expected = change_line(publication.changes)
        expected_first = change_line(first_changes := edited.publications.get(number=1).changes)
    assert expected == "E2 0 → 4；純スコア 75.0 → 63.8；評点 A → D"
    assert newest.find("td", class_="change-line").clean_text == expected
    assert newest.find_all("td")[-1].clean_text == NOTE  # the note is shown as written
    assert first_changes["first"] is True
    assert (
        first.find("td", class_="change-line").clean_text
        == expected_first
        == "初回公開；純スコア 75.0；評点 A"
    )
    headers = [
        th.clean_text
        for th in page(client.get("/ja/projects/alpha/"))
        .find("section", class_="history")
        .find("thead")
        .find_all("th")
    ]
    assert headers[0] == "公開日時（UTC）" and headers[-2:] == ["変更内容", "理由"]


def test_the_note_and_change_line_are_escaped(client, edited):
    publish_as_reviewer(project=edited, note="<script>alert(1)</script> & more")
    body = client.get("/en/projects/alpha/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in body
