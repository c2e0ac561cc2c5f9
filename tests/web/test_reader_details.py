"""Details a reader notices (issue 14, items 8, 10, 12, 13): titles that say what a page is,
one address for the current method, /favicon.ico, names sorted whatever their case, a range
with nothing missing written as one figure, operators' countries and dates in the page's
language, English text marked as English."""

import json

import pytest
from django.utils import translation

from tests.support.builders import make_project
from tests.web.pages import page, ranking_names

pytestmark = pytest.mark.django_db


def test_a_project_title_says_what_the_page_is(client):
    make_project("alpha", name="Alpha Lander", target_body="moon")
    assert page(client.get("/en/projects/alpha/")).find("title").text == (
        "Alpha Lander — Moon project rated D · sdgscore"
    )
    assert page(client.get("/ja/projects/alpha/")).find("title").text == (
        "Alpha Lander — 月のプロジェクト（評点 D） · sdgscore"
    )


def test_the_current_method_has_one_canonical_address(client):
    for url in ("/en/methodology/", "/en/methodology/1.0/"):
        canonical = page(client.get(url)).find("link", rel="canonical")
        assert canonical.attrs["href"] == "http://testserver/en/methodology/", url


def test_favicon_ico_leads_to_the_sites_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].startswith("/static/web/icon") and response["Location"].endswith(".svg")


def test_operators_and_projects_sort_by_name_whatever_the_case(client):
    for slug, name, operator, country in [
        ("nasa-one", "NASA rover", "NASA", "US"),
        ("ispace-one", "ispace lander", "ispace", "JP"),
        ("zeta-one", "Zeta probe", "Zeta", "DE"),
    ]:
        make_project(slug, name=name, operator={"name": operator, "country": country, "kind": "company"})
    headings = [h.clean_text for h in page(client.get("/en/operators/")).find_all("h2")]
    assert headings[:3] == ["ispace", "NASA", "Zeta"]
    in_order = ["ispace lander", "NASA rover", "Zeta probe"]
    assert ranking_names(client.get("/en/?sort=operator")) == in_order
    assert ranking_names(client.get("/en/?sort=name")) == in_order


def test_a_range_with_nothing_missing_is_one_figure(client):
    make_project("alpha", name="Alpha Lander")  # every criterion rated: nothing can move it
    body = page(client.get("/en/projects/alpha/")).find("main").clean_text
    assert "–" not in body.split("Range")[1].split("Confidence")[0]


def test_the_operator_country_is_named_in_the_pages_language(client):
    make_project(
        "alpha", name="Alpha Lander", operator={"name": "Lunar Co", "country": "US", "kind": "company"}
    )
    assert "(United States, Company)" in page(client.get("/en/projects/alpha/")).find("main").clean_text
    assert "（米国、企業）" in page(client.get("/ja/projects/alpha/")).find("main").clean_text


def test_dates_are_written_as_each_language_writes_them(client):
    from datetime import UTC, datetime

    from django.utils.formats import date_format

    moment = datetime(2026, 12, 4, 11, 26, tzinfo=UTC)
    with translation.override("en"):
        assert date_format(moment, "DATETIME_FORMAT") == "4 December 2026, 11:26"
    with translation.override("ja"):
        assert date_format(moment, "DATETIME_FORMAT") == "2026年12月4日 11:26"


def test_english_texts_on_japanese_pages_are_marked_english(client):
    make_project("alpha", name="Alpha Lander", note="First look at the evidence.")
    cells = page(client.get("/ja/projects/alpha/")).find_all("td")
    notes = [cell for cell in cells if cell.clean_text == "First look at the evidence."]
    assert notes and all(cell.attrs.get("lang") == "en" for cell in notes)
    methodology = page(client.get("/ja/methodology/"))
    references = [p for p in methodology.find_all("p", class_="meta") if p.find_all("span", lang="en")]
    assert len(references) >= 10  # the criteria that rest on named targets or instruments


def test_the_net_score_is_explained_from_the_impact_and_the_two_risk_discounts(client):
    make_project("alpha", name="Alpha Lander")
    explained = page(client.get("/en/projects/alpha/")).find("p", class_="net-explained").clean_text
    # "Impact score 50.0 × 0.75 (… risk 50.0) × 0.75 (… risk 50.0) = net score 28.1"
    impact = float(explained.split("Impact score ")[1].split(" ")[0])
    factors = [float(part.split(" ")[0]) for part in explained.split(" × ")[1:]]
    net = float(explained.split("net score ")[1])
    assert len(factors) == 2
    assert abs(impact * factors[0] * factors[1] - net) < 0.1
    assert "debris" in explained.lower() and "equity" in explained.lower()
    japanese = page(client.get("/ja/projects/alpha/")).find("p", class_="net-explained").clean_text
    assert japanese.startswith("インパクトスコア") and "純スコア" in japanese


def test_risk_levels_say_which_way_they_run_and_confidence_is_explained(client):
    make_project("alpha", name="Alpha Lander")
    main = page(client.get("/en/projects/alpha/")).find("main")
    risk_levels = [span.clean_text for span in main.find_all("span", class_="risk-criterion")]
    assert risk_levels and all(level.endswith("(0 = no risk)") for level in risk_levels)
    sdg_levels = [span.clean_text for span in main.find_all("span", class_="level-2")]
    assert any(level == "Level 2 of 4" for level in sdg_levels)
    assert main.find("span", class_="confidence-meaning").clean_text.startswith(":")


def ld_json(response) -> dict:
    body = response.content.decode()
    start = body.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    return json.loads(body[start : body.index("</script>", start)])


def test_a_project_page_carries_its_rating_as_linked_data(client):
    make_project("alpha", name="Alpha </script><b>Lander")
    data = ld_json(client.get("/en/projects/alpha/"))
    assert data["@type"] == "CreativeWork"
    assert data["about"]["name"] == "Alpha </script><b>Lander"  # escaped in the page, whole in the data
    assert data["contentRating"]["ratingValue"] == 28.1
    assert data["contentRating"]["alternateName"] == "Grade D"
    assert data["url"] == "http://testserver/en/projects/alpha/"


def test_the_open_data_page_describes_a_dataset(client):
    data = ld_json(client.get("/en/open-data/"))
    assert data["@type"] == "Dataset"
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert {d["contentUrl"] for d in data["distribution"]} == {
        "http://testserver/api/v1/export/projects.json",
        "http://testserver/api/v1/export/scores.csv",
    }


def test_the_badge_embed_text_says_the_grade_the_score_and_the_demo_note(client):
    make_project("alpha", name="Alpha Lander", origin="demo")
    tree = page(client.get("/en/projects/alpha/"))
    image = tree.find("section", class_="embed").find("img")
    assert image.attrs["alt"] == (
        "sdgscore — Alpha Lander: grade D, net score 28.1 of 100. Illustrative demo assessment."
    )
    assert image.attrs["alt"] in tree.find("pre", class_="snippet").clean_text
