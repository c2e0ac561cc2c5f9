"""The rows and criteria the pages write in Python (projects.templatetags.web_cells) escape what
analysts typed exactly as the templates did: a name, an operator, a justification or a source
link holding markup shows as text, never as markup, in both languages."""

import pytest

from tests.support.builders import all_rated, make_project, rated
from tests.web.pages import page

pytestmark = pytest.mark.django_db

MARKUP = '<i>Moon & "Co"</i>'
ESCAPED = "&lt;i&gt;Moon &amp; &quot;Co&quot;&lt;/i&gt;"
SOURCE = "https://example.org/report?a=1&b=<2>"


@pytest.fixture
def marked_up(db):
    ratings = [r for r in all_rated(3) if r["criterion"] != "S7.1"]
    ratings.append(rated("S7.1", 3, "A", evidence=f"Evidence {MARKUP}", source_url=SOURCE))
    operator = {"name": f"Operator {MARKUP}", "country": "JP", "kind": "company"}
    return make_project("marked", name=f"Project {MARKUP}", operator=operator, assessments=ratings)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_rankings_row_shows_typed_markup_as_text(client, marked_up, language):
    body = client.get(f"/{language}/").content.decode()
    assert MARKUP not in body
    assert f"Project {ESCAPED}" in body and f"Operator {ESCAPED}" in body
    row = page(client.get(f"/{language}/")).find("th", class_="project-cell")
    assert row.find("a").attrs["href"] == f"/{language}/projects/marked/"
    assert 'Project <i>Moon & "Co"</i>' in row.find("a").clean_text


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_criterion_shows_typed_markup_and_links_as_text(client, marked_up, language):
    body = client.get(f"/{language}/projects/marked/").content.decode()
    assert MARKUP not in body
    assert f"Evidence {ESCAPED}" in body
    item = page(client.get(f"/{language}/projects/marked/")).find("li", id="criterion-s71")
    link = item.find("a", class_="source")
    assert link.attrs["href"] == SOURCE
    assert link.clean_text == SOURCE
