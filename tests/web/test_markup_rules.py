"""Every page follows the house rules for markup: ready for a strict CSP, nothing from another host."""

import pytest

from tests.support.builders import all_rated, make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db
PAGES = [
    "/{lang}/",
    "/{lang}/?body=moon&sort=grade",
    "/{lang}/projects/alpha/",
    "/{lang}/projects/thin/",
    "/{lang}/methodology/",
    "/{lang}/rankings/custom/",
    "/{lang}/rankings/custom/?sdg7=3&sdg9=1&sdg12=0&alpha=0.2",
    "/{lang}/compare/",
    "/{lang}/compare/?p=alpha&p=thin",
    "/{lang}/operators/",
    "/{lang}/open-data/",
    "/{lang}/projects/missing/",
]


@pytest.fixture
def projects(db):
    make_project("alpha", assessments=all_rated(2, E2=4, D5=None), origin="demo")
    make_project("thin", assessments=all_rated(2)[:4])


def all_pages(client):
    """Each page in each language, read in one test per rule: the projects cost more than the pages."""
    for lang in ("en", "ja"):
        for path in PAGES:
            url = path.format(lang=lang)
            yield lang, url, page(client.get(url))


def test_no_inline_script_or_style_and_no_event_handlers(client, projects):
    for _lang, url, tree in all_pages(client):
        # No script runs inline; linked data (a JSON-LD data block, never executed) is allowed,
        # and a file of this site's (the sliders' values shown as they move; pages work without).
        scripts = tree.find_all("script")
        assert all(
            script.attrs.get("type") == "application/ld+json"
            or (
                script.attrs.get("src", "").startswith("/static/")
                and not "".join(map(str, script.children)).strip()
            )
            for script in scripts
        ), url
        assert tree.find_all("style") == [], url
        for element in tree.iter():
            assert "style" not in element.attrs, f"{url}: <{element.tag} style=…>"
            handlers = [name for name in element.attrs if name.startswith("on")]
            assert not handlers, f"{url}: <{element.tag} on…>"


def test_assets_come_from_this_site_only(client, projects):
    for _lang, url, tree in all_pages(client):
        for link in tree.find_all("link"):
            if link.attrs["rel"] in ("stylesheet", "icon"):
                assert link.attrs["href"].startswith("/static/web/"), url
        for image in tree.find_all("img"):
            assert image.attrs["src"].startswith("/"), url


def test_page_language_skip_link_and_one_main_heading(client, projects):
    for lang, url, tree in all_pages(client):
        assert tree.find("html").attrs["lang"] == lang, url
        assert tree.find("a", class_="skip-link").attrs["href"] == "#main", url
        assert tree.find("main").attrs["id"] == "main", url
        assert len(tree.find_all("h1")) == 1, url


def test_every_table_has_a_caption_and_scoped_headers(client, projects):
    for _lang, url, tree in all_pages(client):
        for table in tree.find_all("table"):
            assert table.find("caption").clean_text, url
            for header in table.find_all("th"):
                assert header.attrs.get("scope") in ("col", "row"), url
