"""Every page follows the house rules for markup: ready for a strict CSP, nothing from another host."""

import pytest

from tests.web.conftest import all_rated, make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db
PAGES = [
    "/{lang}/",
    "/{lang}/?body=moon&sort=grade",
    "/{lang}/projects/alpha/",
    "/{lang}/projects/thin/",
    "/{lang}/methodology/",
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


def all_pages():
    return [(lang, path.format(lang=lang)) for lang in ("en", "ja") for path in PAGES]


@pytest.mark.parametrize(("lang", "path"), all_pages())
def test_no_inline_script_or_style_and_no_event_handlers(client, projects, lang, path):
    tree = page(client.get(path))
    assert tree.find_all("script") == []
    assert tree.find_all("style") == []
    for element in tree.iter():
        assert "style" not in element.attrs, f"<{element.tag} style=…>"
        assert not [name for name in element.attrs if name.startswith("on")], f"<{element.tag} on…>"


@pytest.mark.parametrize(("lang", "path"), all_pages())
def test_assets_come_from_this_site_only(client, projects, lang, path):
    tree = page(client.get(path))
    for link in tree.find_all("link"):
        if link.attrs["rel"] in ("stylesheet", "icon"):
            assert link.attrs["href"].startswith("/static/web/")
    for image in tree.find_all("img"):
        assert image.attrs["src"].startswith("/")


@pytest.mark.parametrize(("lang", "path"), all_pages())
def test_page_language_skip_link_and_one_main_heading(client, projects, lang, path):
    tree = page(client.get(path))
    assert tree.find("html").attrs["lang"] == lang
    assert tree.find("a", class_="skip-link").attrs["href"] == "#main"
    assert tree.find("main").attrs["id"] == "main"
    assert len(tree.find_all("h1")) == 1


@pytest.mark.parametrize(("lang", "path"), all_pages())
def test_every_table_has_a_caption_and_scoped_headers(client, projects, lang, path):
    for table in page(client.get(path)).find_all("table"):
        assert table.find("caption").clean_text
        for header in table.find_all("th"):
            assert header.attrs.get("scope") in ("col", "row")
