"""The home page's overview (issue 14, item 11): the first projects of the list as a colour
matrix and an impact-versus-risk scatter, SVG drawn on the server, each with its table
alternative, colour never the only cue (projects.web.overview, web/includes/overview.html)."""

import pytest

from projects.web.overview import GOAL_COLOURS, OVERVIEW_SIZE, cut_name, shade
from projects.web.views import rankings as rankings_view
from tests.support.builders import all_rated, make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(db):
    # Alpha: all 3 (no risk-free: risks at 3 too); Beta: all 1; Thin: too few ratings to score.
    make_project("alpha", name="Alpha", assessments=all_rated(3))
    make_project(
        "beta",
        name="Beta",
        assessments=all_rated(1, S12_1=None, S12_2=None, S12_3=None, S12_4=None, S12_5=None),
    )
    make_project("thin", name="Thin", assessments=all_rated(2)[:3])


def overview_of(response):
    return page(response).find("section", class_="overview")


def table_rows(section) -> list[list[str]]:
    return [
        [cell.clean_text for cell in row.children if getattr(cell, "tag", None) in ("td", "th")]
        for row in section.find("table").find("tbody").find_all("tr")
    ]


def test_the_matrix_has_a_row_per_project_in_the_lists_order_with_figures_as_text(client, three):
    section = overview_of(client.get("/en/"))
    matrix = section.find("svg", class_="overview-matrix")
    assert matrix.attrs["role"] == "img"
    caption, desc = matrix.attrs["aria-labelledby"].split()
    assert section.find("figcaption", id=caption).clean_text == "Scores and risks by dimension"
    assert "the denser the hatching, the higher the level" in section.find("desc", id=desc).clean_text
    labels = [text.clean_text for text in matrix.find_all("text", class_="row-label")]
    assert labels == ["1 Alpha", "2 Beta", "3 Thin"]  # net score, best first, as the table
    alpha = matrix.find_all("g", class_="matrix-row")[0]
    figures = [text.clean_text for text in alpha.find_all("text", class_="cell-value")]
    card = make_card("alpha")
    assert figures[:3] == [f"{card['dimensions'][key]['value']:.1f}" for key in ("sdg7", "sdg9", "sdg12")]
    assert figures[3:] == ["High", "High"]  # risk levels as words, not colour alone
    # Beta's SDG 12 does not apply: hatched and said.
    beta = matrix.find_all("g", class_="matrix-row")[1]
    assert [text.clean_text for text in beta.find_all("text", class_="cell-value")][2] == "n/a"
    thin = matrix.find_all("g", class_="matrix-row")[2]
    # Thin: only SDG 7 has ratings (too few to score the project); a dash where nothing is known.
    assert [text.clean_text for text in thin.find_all("text", class_="cell-value")] == ["50.0", *["—"] * 4]


def make_card(slug: str) -> dict:
    from projects.models import Project

    return Project.objects.select_related("published_score").get(slug=slug).published_score.card


def test_sdg_cells_use_the_goal_colours_shaded_by_score_with_a_bar_as_long_as_the_score(client, three):
    matrix = overview_of(client.get("/en/")).find("svg", class_="overview-matrix")
    alpha = matrix.find_all("g", class_="matrix-row")[0]
    fills = [
        rect for rect in alpha.find_all("rect", class_="cell") if rect.attrs.get("fill", "").startswith("#")
    ]
    assert [rect.attrs["fill"] for rect in fills] == [GOAL_COLOURS[key] for key in ("sdg7", "sdg9", "sdg12")]
    assert [float(rect.attrs["fill-opacity"]) for rect in fills] == [1.0, 1.0, 1.0]  # all 75: the darkest
    bars = [float(rect.attrs["width"]) for rect in alpha.find_all("rect", class_="cell-bar")]
    assert bars == [37.5, 37.5, 37.5]  # 75% of the 50-unit bar
    assert [shade(value) for value in (0, 24.9, 25, 49.9, 50, 74.9, 75, 100)] == [
        0.25,
        0.25,
        0.5,
        0.5,
        0.75,
        0.75,
        1.0,
        1.0,
    ]


def test_the_scatter_has_a_numbered_point_per_rated_project(client, three):
    section = overview_of(client.get("/en/"))
    scatter = section.find("svg", class_="overview-scatter")
    assert scatter.attrs["role"] == "img"
    points = scatter.find_all("g", class_="point")
    assert [point.find("text").clean_text for point in points] == ["1", "2"]  # Thin has no net score
    alpha, beta = (point.find("circle") for point in points)
    assert float(alpha.attrs["cx"]) > float(beta.attrs["cx"])  # more impact: further right
    assert "grade-" in points[0].attrs["class"]


def test_the_table_alternative_gives_every_figure_the_charts_show(client, three):
    section = overview_of(client.get("/en/"))
    card = make_card("alpha")
    rows = table_rows(section)
    assert [row[1] for row in rows] == ["Alpha", "Beta", "Thin"]
    alpha = rows[0]
    impact, net = card["impact"]["value"], card["overall"]["value"]
    assert alpha[:6] == [
        "1",
        "Alpha",
        card["overall"]["grade"],
        f"{impact:.1f}",
        f"{100 * (1 - net / impact):.1f}%",
        f"{net:.1f}",
    ]
    assert alpha[9:] == [
        f"High ({card['dimensions']['debris']['value']:.1f})",
        f"High ({card['dimensions']['equity']['value']:.1f})",
    ]
    assert rows[1][8] == "not applicable"
    assert rows[2][2:6] == ["—", "—", "—", "—"]
    assert section.find("a", href="/en/projects/alpha/").clean_text == "Alpha"


def test_the_overview_follows_the_filters_and_sort_and_shows_on_the_first_page_only(
    client, three, monkeypatch
):
    section = overview_of(client.get("/en/", {"sort": "name"}))
    assert [row[1] for row in table_rows(section)] == ["Alpha", "Beta", "Thin"]
    section = overview_of(client.get("/en/", {"sort": "-name"}))
    assert [row[1] for row in table_rows(section)] == ["Thin", "Beta", "Alpha"]
    section = overview_of(client.get("/en/", {"grade": card_grade("beta")}))
    assert [row[1] for row in table_rows(section)] == ["Beta"]
    monkeypatch.setattr(rankings_view, "PAGE_SIZE", 2)
    assert len(table_rows(overview_of(client.get("/en/")))) == 2
    assert page(client.get("/en/", {"page": "2"})).find_all("section", class_="overview") == []


def card_grade(slug: str) -> str:
    return make_card(slug)["overall"]["grade"]


def test_it_shows_the_first_twenty_and_says_so(client):
    for number in range(OVERVIEW_SIZE + 2):
        make_project(f"p{number:02}", name=f"Project {number:02}", assessments=all_rated(number % 5))
    section = overview_of(client.get("/en/", {"sort": "name"}))
    assert len(table_rows(section)) == OVERVIEW_SIZE
    assert section.find("p", class_="overview-scope").clean_text == (
        f"The first {OVERVIEW_SIZE} of the {OVERVIEW_SIZE + 2} projects in the table below, in its order."
    )


def test_no_projects_no_overview(client, db):
    assert page(client.get("/en/")).find_all("section", class_="overview") == []


def test_the_japanese_overview_is_in_japanese(client, three):
    section = overview_of(client.get("/ja/"))
    assert section.find("h2").clean_text == "ひと目でわかる概観"
    assert section.find("p", class_="overview-scope").clean_text == "下の表の3件すべて（表の順）。"
    risks = [text.clean_text for text in section.find_all("text", class_="risk-text")]
    assert risks == ["高", "高", "対象外", "中", "中"]  # Alpha's two risks; Beta's SDG 12 and risks


def test_long_names_are_cut_counting_wide_characters_double():
    assert cut_name("Short") == "Short"
    assert cut_name("A" * 23) == "A" * 23
    assert cut_name("A" * 24) == "A" * 22 + "…"
    assert cut_name("月" * 12) == "月" * 10 + "…"  # 24 units
