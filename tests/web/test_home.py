"""Home page: the rankings of published projects, sorted and filtered by plain links."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from tests.support.builders import all_rated, make_project
from tests.support.shared_data import built_once
from tests.web.pages import page, ranking_names, text

pytestmark = pytest.mark.django_db


def make_three():
    make_project("alpha", name="Alpha", target_body="moon", phase="demonstration", assessments=all_rated(3))
    make_project("beta", name="Beta", target_body="mars", phase="concept", assessments=all_rated(1))
    make_project("gamma", name="Gamma", target_body="moon", phase="prospecting", assessments=all_rated(2))


@pytest.fixture(scope="class")
def three(django_db_setup, django_db_blocker):
    """Alpha, Beta and Gamma, published, once for the class's tests (tests/support/shared_data.py)."""
    with built_once(django_db_blocker, make_three):
        yield


def test_root_redirects_to_the_visitors_language(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5").headers["Location"] == "/ja/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB").headers["Location"] == "/en/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr").headers["Location"] == "/en/"


def test_table_shows_grade_net_score_range_sdgs_and_risk_levels(client):
    make_project("alpha", name="Alpha", assessments=all_rated(2, S7_1="missing"))
    row = page(client.get("/en/")).find("table", class_="rankings").find("tbody").find("tr")
    cells = [cell.clean_text for cell in row.children if not isinstance(cell, str)]
    card = Project.objects.get(slug="alpha").current_score
    assert cells[2] == f"Grade {card.grade}"
    assert cells[3].startswith(f"{card.net_score:.1f}")
    assert f"{card.net_low:.1f}–{card.net_high:.1f}" in cells[3]
    assert cells[4:7] == [f"{card.sdg7:.1f}", f"{card.sdg9:.1f}", f"{card.sdg12:.1f}"]
    assert cells[7] == cells[8] == "Elevated"  # level 2 everywhere: risk 50


def test_demo_projects_are_labelled_in_the_list(client):
    make_project("demo-one", name="Demo One", origin="demo")
    make_project("real-one", name="Real One")
    tree = page(client.get("/en/"))
    rows = {
        row.find("th").find("a").clean_text: row
        for row in tree.find("table", class_="rankings").find("tbody").find_all("tr")
    }
    assert "illustrative demo assessment" in rows["Demo One"].clean_text
    assert "illustrative demo assessment" not in rows["Real One"].clean_text


def test_insufficient_data_shows_no_grade_but_its_range(client):
    make_project("thin", name="Thin", assessments=all_rated(2)[:3])
    row = page(client.get("/en/")).find("table", class_="rankings").find("tbody").find("tr").clean_text
    assert "No grade: insufficient data" in row
    assert "insufficient data" in row


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/en/", {"sort": "-sdg9", "body": "moon"}).status_code == 200
    return len(queries)


def test_home_runs_the_same_number_of_queries_for_2_or_8_projects(client):
    for number in range(2):
        make_project(
            f"p{number}",
            assessments=all_rated(number % 5)[:20],
            operator={"name": f"Op {number}", "country": "JP", "kind": "company"},
        )
    with_two = _home_queries(client)
    for number in range(2, 8):  # four times as many rows: a query per row would show
        make_project(
            f"p{number}",
            assessments=all_rated(number % 5)[:20],
            operator={"name": f"Op {number}", "country": "JP", "kind": "company"},
        )
    assert _home_queries(client) == with_two
    # freshness, the method, the count, the facet counts, the table, its rank intervals, the overview
    assert with_two <= 9


@pytest.mark.usefixtures("three")
class TestThreeProjects:
    """The rankings of Alpha (moon, demonstration, all 3), Beta (mars, concept, all 1) and Gamma
    (moon, prospecting, all 2)."""

    def test_home_explains_sdgscore_and_lists_only_published_projects(self, client):
        make_project("draft-one", name="Hidden Draft", publish=False)
        response = client.get("/en/")
        assert response.status_code == 200
        assert "rates missions that prospect for or use space resources" in text(response)
        assert sorted(ranking_names(response)) == ["Alpha", "Beta", "Gamma"]
        assert "Hidden Draft" not in response.content.decode()

    def test_table_has_a_caption_and_column_headers(self, client):
        table = page(client.get("/en/")).find("table", class_="rankings")
        assert "3 published projects" in table.find("caption").clean_text
        headers = table.find("thead").find_all("th")
        assert all(header.attrs.get("scope") == "col" for header in headers)
        assert all(row.find("th").attrs.get("scope") == "row" for row in table.find("tbody").find_all("tr"))

    def test_default_order_is_net_score_best_first(self, client):
        assert ranking_names(client.get("/en/")) == ["Alpha", "Gamma", "Beta"]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("net", ["Beta", "Gamma", "Alpha"]),
            ("-net", ["Alpha", "Gamma", "Beta"]),
            ("name", ["Alpha", "Beta", "Gamma"]),
            ("-name", ["Gamma", "Beta", "Alpha"]),
            ("-sdg7", ["Alpha", "Gamma", "Beta"]),
            ("debris", ["Beta", "Gamma", "Alpha"]),
            ("-equity", ["Alpha", "Gamma", "Beta"]),
        ],
    )
    def test_sort_by_a_column(self, client, sort, expected):
        assert ranking_names(client.get("/en/", {"sort": sort})) == expected

    def test_sorting_by_grade_puts_projects_without_a_grade_last_both_ways(self, client):
        make_project("delta", name="Delta", assessments=[])  # insufficient data: no grade
        assert ranking_names(client.get("/en/", {"sort": "grade"}))[-1] == "Delta"
        assert ranking_names(client.get("/en/", {"sort": "-grade"}))[-1] == "Delta"

    def test_sorted_column_is_marked_for_assistive_technology_and_its_link_flips_the_order(self, client):
        tree = page(client.get("/en/", {"sort": "-net"}))
        sorted_headers = [th for th in tree.find_all("th") if th.attrs.get("aria-sort")]
        assert len(sorted_headers) == 1
        assert sorted_headers[0].attrs["aria-sort"] == "descending"
        assert sorted_headers[0].find("a").attrs["href"] == "?sort=net"

    def test_sort_links_keep_the_filters(self, client):
        tree = page(client.get("/en/", {"body": "moon"}))
        headers = tree.find("table", class_="rankings").find_all("th")
        name_header = next(th for th in headers if th.clean_text.startswith("Project"))
        assert name_header.find("a").attrs["href"] == "?body=moon&sort=name"

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"body": "moon"}, ["Alpha", "Gamma"]),
            ({"body": ["moon", "mars"]}, ["Alpha", "Gamma", "Beta"]),
            ({"phase": "concept"}, ["Beta"]),
            ({"body": "moon", "phase": "prospecting"}, ["Gamma"]),
            ({"grade": "E"}, ["Beta"]),
            ({"debris": "elevated"}, ["Gamma"]),
            ({"equity": ["high", "moderate"]}, ["Alpha", "Beta"]),
        ],
    )
    def test_filter_by_body_phase_grade_and_risk_level(self, client, query, expected):
        assert ranking_names(client.get("/en/", query)) == expected

    def test_filter_links_toggle_one_value_and_mark_the_active_one(self, client):
        tree = page(client.get("/en/", {"body": "moon"}))
        chips = {chip.attrs["href"]: chip for chip in tree.find_all("a", class_="chip")}
        assert "?" in chips  # the active Moon chip removes the filter
        assert chips["?"].attrs.get("aria-current") == "true"
        assert "?body=moon&body=mars" in chips
        assert "?body=moon&phase=prospecting" in chips
        # Each chip says how many published projects have its value; none has the pilot phase.
        assert "?body=moon&phase=pilot" not in chips
        counts = {
            chip.attrs["href"]: chip.find("span", class_="chip-count").clean_text for chip in chips.values()
        }
        assert counts["?body=moon&body=mars"] == "1" and counts["?"] == "2"

    def test_unknown_filter_values_give_a_friendly_page_not_an_error(self, client):
        response = client.get("/en/", {"body": ["pluto", "moon"], "grade": "Z", "sort": "colour"})
        assert response.status_code == 400
        alert = page(response).find("div", role="alert").clean_text
        assert "“pluto”" in alert and "“Z”" in alert and "“colour”" in alert
        assert ranking_names(response) == ["Alpha", "Gamma"]  # the understood filter still applies

    def test_no_match_says_so_and_offers_all_projects(self, client):
        response = client.get("/en/", {"body": "comet"})
        assert "No published project matches these filters." in text(response)

    def test_home_in_japanese_translates_the_page_and_vocabulary(self, client):
        response = client.get("/ja/")
        body = text(response)
        assert page(response).find("html").attrs["lang"] == "ja"
        assert "ランキング" in body and "月" in body and "実証" in body
        assert "Rankings" not in body
