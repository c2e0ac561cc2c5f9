"""Compare, operators, open data and the badge."""

import pytest

from projects.models import Project
from tests.support.builders import all_rated, make_project
from tests.web.pages import page, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(db):
    make_project(
        "alpha",
        name="Alpha",
        assessments=all_rated(3),
        operator={"name": "Orbit Co", "country": "US", "kind": "company"},
    )
    make_project("beta", name="Beta", assessments=all_rated(1), origin="demo")
    make_project("gamma", name="Gamma", assessments=all_rated(2)[:3])
    make_project(
        "hidden",
        name="Hidden",
        publish=False,
        operator={"name": "Secret Co", "country": "FR", "kind": "agency"},
    )


def test_compare_offers_every_published_project_to_choose_from(client, projects):
    tree = page(client.get("/en/compare/"))
    assert [box.attrs["value"] for box in tree.find_all("input", type="checkbox")] == [
        "alpha",
        "beta",
        "gamma",
    ]
    assert tree.find("form", class_="picker").attrs["method"] == "get"


def test_compare_shows_the_chosen_projects_side_by_side(client, projects):
    response = client.get("/en/compare/", {"p": ["beta", "alpha", "gamma"]})
    tree = page(response)
    table = tree.find("table", class_="comparison")
    assert [th.find("a").clean_text for th in table.find("thead").find_all("th")] == [
        "Beta",
        "Alpha",
        "Gamma",
    ]
    grades = next(row for row in table.find_all("tr") if row.find("th").clean_text == "Grade").clean_text
    assert "insufficient data" in grades
    assert [box.attrs["value"] for box in tree.find_all("input", checked=True)] == ["alpha", "beta", "gamma"]


@pytest.mark.parametrize("chosen", [["alpha"], ["alpha", "beta", "gamma", "extra0", "extra1"]])
def test_compare_asks_for_two_to_four(client, projects, chosen):
    make_project("extra0")
    make_project("extra1")
    response = client.get("/en/compare/", {"p": chosen})
    assert response.status_code == 400
    assert "Choose between two and four projects to compare." in text(response)


def test_compare_leaves_out_drafts_and_unknown_slugs_and_says_so(client, projects):
    response = client.get("/en/compare/", {"p": ["alpha", "beta", "hidden", "nope"]})
    body = text(response)
    assert "These projects were not found and are left out: hidden, nope" in body
    assert "Hidden" not in [
        th.clean_text for th in page(response).find("table", class_="comparison").find_all("th")
    ]


def test_operators_list_each_operator_with_its_published_projects(client, projects):
    tree = page(client.get("/en/operators/"))
    sections = {
        section.find("h2").clean_text: section for section in tree.find_all("section", class_="operator")
    }
    assert list(sections) == ["Orbit Co", "Test Operator"]  # Secret Co has only a draft
    assert "Alpha" in sections["Orbit Co"].clean_text
    projects = sections["Test Operator"].find("ul", class_="operator-projects")
    assert [a.clean_text for a in projects.find_all("a")] == ["Beta", "Gamma"]
    assert "illustrative demo assessment" in sections["Test Operator"].clean_text


def test_operators_page_queries_do_not_grow_with_projects(client, projects, django_assert_max_num_queries):
    for index in range(10):
        make_project(
            f"more{index}", operator={"name": f"Operator {index}", "country": "JP", "kind": "university"}
        )
    with django_assert_max_num_queries(5):
        client.get("/en/operators/")


def test_open_data_links_the_downloads_licence_and_api(client):
    tree = page(client.get("/en/open-data/"))
    hrefs = {a.attrs["href"] for a in tree.find("main").find_all("a")}
    assert {"/api/v1/export/projects.json", "/api/v1/export/scores.csv", "/api/docs/"} <= hrefs
    assert "https://creativecommons.org/licenses/by/4.0/" in hrefs
    assert "CC BY 4.0" in tree.find("main").clean_text
    assert "ライセンス" in text(client.get("/ja/open-data/"))


def test_badge_is_an_svg_with_grade_and_net_score(client, projects):
    response = client.get("/en/projects/alpha/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = page(response).find("svg")
    score = Project.objects.get(slug="alpha").current_score
    assert f"{score.grade} · {score.net_score:.1f}" in svg.clean_text
    assert svg.attrs["role"] == "img" and svg.find("title").clean_text.startswith("Alpha: grade")


def test_badge_of_demo_and_insufficient_data_projects_says_so(client, projects):
    assert "demo" in page(client.get("/en/projects/beta/badge.svg")).find("svg").clean_text
    assert "insufficient data" in page(client.get("/en/projects/gamma/badge.svg")).find("svg").clean_text
    assert "データ不足" in page(client.get("/ja/projects/gamma/badge.svg")).find("svg").clean_text


def test_badge_of_a_draft_is_404(client, projects):
    assert client.get("/en/projects/hidden/badge.svg").status_code == 404


def test_unprefixed_badge_address_redirects_to_a_language(client, projects):
    response = client.get("/projects/alpha/badge.svg", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == "/en/projects/alpha/badge.svg"
