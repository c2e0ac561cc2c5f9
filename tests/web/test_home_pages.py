"""The ranking is shown fifty projects at a time, with links between pages that keep the
filters and the sort, so the home page stays small and fast with 100,000 projects."""

import io

import pytest
from django.core.management import call_command

from tests.web.pages import page, ranking_names, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def sixty(db):
    call_command("generate_projects", "60", "--seed", "3", stdout=io.StringIO(), stderr=io.StringIO())


def nav_links(response) -> dict[str, str]:
    nav = page(response).find("nav", class_="pagination")
    return {link.attrs["rel"]: link.attrs["href"] for link in nav.find_all("a")}


def test_the_first_page_holds_fifty_projects_and_links_to_the_next(client, sixty):
    response = client.get("/en/")
    assert len(ranking_names(response)) == 50
    body = text(response)
    assert "60 published projects, ranks 1–50." in body and "Page 1 of 2" in body
    assert nav_links(response) == {"next": "?page=2"}


def test_the_second_page_holds_the_rest_in_the_same_order(client, sixty):
    everything = ranking_names(client.get("/en/")) + ranking_names(client.get("/en/?page=2"))
    assert len(everything) == len(set(everything)) == 60
    response = client.get("/en/?page=2")
    assert "ranks 51–60" in text(response) and nav_links(response) == {"prev": "?page=1"}


def test_page_links_keep_the_filters_and_the_sort(client, sixty):
    response = client.get("/en/?sort=name&grade=D&grade=C&page=1")
    names = ranking_names(response)
    assert names == sorted(names)
    links = nav_links(response)
    if links:  # more than 50 match: the next page keeps the filters and the sort
        assert links["next"] == "?sort=name&grade=D&grade=C&page=2"
    # The sort headers and filter links start again at the first page.
    assert "page=" not in "".join(a.attrs.get("href", "") for a in page(response).find("thead").find_all("a"))


@pytest.mark.parametrize(
    ("asked", "shown"), [("99", "Page 2 of 2"), ("x", "Page 1 of 2"), ("0", "Page 2 of 2")]
)
def test_a_page_out_of_range_or_not_a_number_shows_a_real_page(client, sixty, asked, shown):
    response = client.get(f"/en/?page={asked}")
    assert response.status_code == 200 and shown in text(response)


def test_the_japanese_page_names_the_pages(client, sixty):
    body = text(client.get("/ja/?page=2"))
    assert "2ページ中2ページ目" in body and "51～60位" in body


def test_no_page_links_when_everything_fits(client):
    call_command("generate_projects", "3", stdout=io.StringIO(), stderr=io.StringIO())
    response = client.get("/en/")
    assert page(response).find_all("nav", class_="pagination") == []
    assert "3 published projects." in text(response)
