"""Search engines and lost visitors: sitemap.xml, robots.txt, Open Graph, canonical links, the 404 page."""

import xml.etree.ElementTree as ET

import pytest
from django.test import RequestFactory
from django.utils import translation

from projects.web.views import not_found
from tests.support.builders import make_project
from tests.web.pages import page, text

pytestmark = pytest.mark.django_db
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.mark.urls("tests.web.urls")
def test_sitemap_lists_every_page_and_published_project_in_both_languages(client):
    make_project("alpha")
    make_project("draft", publish=False)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (our own sitemap, in a test)
    locations = {url.find(f"{SITEMAP}loc").text for url in root}
    for path in (
        "/en/",
        "/ja/",
        "/en/projects/alpha/",
        "/ja/projects/alpha/",
        "/ja/methodology/1.0/",
        "/en/open-data/",
    ):
        assert f"http://testserver{path}" in locations
    assert not any("draft" in location for location in locations)
    alpha = next(
        url for url in root if url.find(f"{SITEMAP}loc").text == "http://testserver/en/projects/alpha/"
    )
    assert {link.get("hreflang") for link in alpha.findall(f"{XHTML}link")} == {"en", "ja", "x-default"}


@pytest.mark.urls("tests.web.urls")
def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()


def test_pages_carry_canonical_alternates_and_open_graph_tags(client):
    make_project("alpha", name="Alpha Lander", summary="Mining ice.")
    head = page(client.get("/ja/projects/alpha/?utm=x")).find("head")
    links = {
        (link.attrs["rel"], link.attrs.get("hreflang")): link.attrs["href"] for link in head.find_all("link")
    }
    assert links[("canonical", None)] == "http://testserver/ja/projects/alpha/"
    assert links[("alternate", "en")] == "http://testserver/en/projects/alpha/"
    # As the sitemap says: the address without a language, which sends each reader to theirs.
    assert links[("alternate", "x-default")] == "http://testserver/projects/alpha/"
    meta = {tag.attrs.get("property"): tag.attrs.get("content") for tag in head.find_all("meta")}
    assert meta["og:title"] == "Alpha Lander — 月のプロジェクト（評点 D）"  # says what the page is
    assert meta["og:url"] == "http://testserver/ja/projects/alpha/"
    assert meta["og:locale"] == "ja_JP" and meta["og:locale:alternate"] == "en_GB"
    assert meta["og:description"] == "Mining ice."


def test_language_switch_on_every_page_leads_to_the_same_page_in_the_other_language(client):
    make_project("alpha")
    for path in (
        "/en/",
        "/en/projects/alpha/",
        "/en/methodology/",
        "/en/compare/",
        "/en/operators/",
        "/en/open-data/",
    ):
        switch = page(client.get(path + "?sort=name")).find("nav", class_="languages")
        japanese = switch.find("a", hreflang="ja")
        assert japanese.attrs["href"] == path.replace("/en/", "/ja/", 1) + "?sort=name"
        assert switch.find("span", class_="current").clean_text == "English"


def test_unknown_project_gets_the_useful_404_with_suggestions(client):
    make_project("hakuto-r-m2", name="HAKUTO-R Mission 2")
    response = client.get("/en/projects/hakuto-r-m3/")
    assert response.status_code == 404
    tree = page(response)
    assert tree.find("h1").clean_text == "Page not found"
    assert tree.find("section", **{"aria-labelledby": "suggestions-heading"}).find("a").attrs["href"] == (
        "/en/projects/hakuto-r-m2/"
    )
    assert tree.find("meta", name="robots").attrs["content"] == "noindex"


def test_not_found_view_answers_404_in_the_visitors_language():
    request = RequestFactory().get("/nowhere/")
    with translation.override("ja"):
        response = not_found(request, exception=None)
    assert response.status_code == 404
    body = response.content.decode()
    assert "ページが見つかりません" in body
    assert 'href="/ja/"' in body


@pytest.mark.urls("tests.web.urls")
def test_handler404_serves_the_page_for_any_unknown_address(client):
    response = client.get("/en/no/such/page/")
    assert response.status_code == 404
    assert "Where to go from here" in text(response)
