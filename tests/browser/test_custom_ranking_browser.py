"""Issue 16 in a real browser: /<lang>/rankings/custom/, the ranking under the reader's own weights.
Sliders moved with the keyboard (and a pointer on a phone) and submitted rank the demo missions
again; the address carries the weights and opens the same ranking elsewhere; the form works with
JavaScript off; the reset link brings back the official ranking; both languages are axe clean and
fit 360 px as labelled cards; bad weights are a 400 with an alert naming them."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .test_quality_on_every_page import assert_no_sideways_scroll, axe_violations
from .test_reader_glance import strict_axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PATH = "/{lang}/rankings/custom/"
NAMES = ("sdg7", "sdg9", "sdg12", "alpha")
OFFICIAL = {"sdg7": "1", "sdg9": "1", "sdg12": "1", "alpha": "0.5"}
# Only SDG 9, a little less risk penalty: Hayabusa2 (2nd officially, the demo's strongest on SDG 9)
# goes to the top.
SDG9_ONLY = {"sdg7": "0", "sdg9": "10", "sdg12": "0", "alpha": "0.4"}
SDG9_QUERY = "?" + "&".join(f"{name}={value}" for name, value in SDG9_ONLY.items())
STRONG_ON_SDG9 = "Hayabusa2"

HEADINGS = {"en": "Your own weights", "ja": "独自の重み"}
SUBMIT = {"en": "Rank under these weights", "ja": "この重みで順位をつける"}
RESET = {"en": "Reset to the official method", "ja": "公式の評価手法に戻す"}
CAPTIONS = {
    "official": {
        "en": "The official ranking (the method's own weights)",
        "ja": "公式ランキング（評価手法の重み）",
    },
    "custom": {"en": "The ranking under your weights", "ja": "あなたの重みによるランキング"},
}
NO_CHANGE = {"en": "no change", "ja": "変更なし"}
LABELS = {
    "en": ["Rank", "Change", "Grade", "Net score", "Official rank", "Official grade"],
    "ja": ["順位", "変動", "評点", "純スコア", "公式順位", "公式評点"],
}

ROWS_JS = """rows => rows.map(row => {
    const cells = row.querySelectorAll('td');
    return {
        rank: Number(cells[0].innerText.trim()),
        name: row.querySelector('th a').innerText.trim(),
        arrow: cells[1].querySelector('[aria-hidden=true]').textContent.trim(),
        change: cells[1].querySelector('.visually-hidden').textContent.trim(),
        net: Number(row.querySelector('.net').textContent.trim()),
        official_rank: Number(cells[4].innerText.trim()),
        official_net: Number(cells[5].querySelector('.muted').textContent.trim()),
    };
})"""

OVERFLOWING_JS = """() => [...document.querySelectorAll('main *')]
    .filter(e => e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1)
    .filter(e => getComputedStyle(e).overflowX === 'visible')
    .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`
        + ` "${e.innerText.slice(-60)}"`)"""


def ranking(page) -> list[dict]:
    """The table as a reader sees it, top to bottom."""
    return page.locator("table.custom-ranking tbody tr").evaluate_all(ROWS_JS)


def names(rows) -> list[str]:
    return [row["name"] for row in rows]


def slider(page, name):
    return page.locator(f".weights-form input[type=range][name={name}]")


def output(page, name):
    return page.locator(f".weights-form output#value-{name}")


def assert_shows_weights(page, weights: dict[str, str]) -> None:
    """Each slider sits at its weight and the number beside it says so."""
    for name, value in weights.items():
        expect(slider(page, name)).to_have_value(value)
        expect(output(page, name)).to_have_text(value)


def query_of(url: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlsplit(url).query).items()}


def assert_ranking_is_consistent(rows) -> None:
    """What a reader can check by eye: nets fall down the table, a rank is one more than the
    number of higher nets (ties share it), and the change is the official rank minus the rank."""
    assert len(rows) == 14
    nets = [row["net"] for row in rows]
    assert nets == sorted(nets, reverse=True)
    for row in rows:
        assert row["rank"] == 1 + sum(net > row["net"] for net in nets)
        moved = row["official_rank"] - row["rank"]
        arrow = f"↑{moved}" if moved > 0 else f"↓{-moved}" if moved < 0 else "–"
        assert row["arrow"] == arrow, row
    assert sorted(row["official_rank"] for row in rows) == sorted(
        1 + sum(other["official_net"] > row["official_net"] for other in rows) for row in rows
    )


def move_to_sdg9_only(page) -> None:
    """With the keyboard, as a person does: Home/End for the ends, arrows for α's steps."""
    slider(page, "sdg7").press("Home")
    slider(page, "sdg12").press("Home")
    slider(page, "sdg9").press("End")
    slider(page, "alpha").press("ArrowLeft")
    slider(page, "alpha").press("ArrowLeft")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_moving_the_sliders_ranks_again_and_the_address_shares_it(open_page, lang):
    page = open_page()
    page.goto(PATH.format(lang=lang))
    assert_shows_weights(page, OFFICIAL)
    before = ranking(page)
    assert before[0]["name"] != STRONG_ON_SDG9
    start = page.url

    move_to_sdg9_only(page)
    # The script shows each value as the slider moves, before anything is submitted.
    assert_shows_weights(page, SDG9_ONLY)
    assert page.url == start
    assert ranking(page) == before

    page.get_by_role("button", name=SUBMIT[lang]).click()
    page.wait_for_url(re.compile(r"\?.*sdg9=10"))
    assert query_of(page.url) == SDG9_ONLY
    assert_shows_weights(page, SDG9_ONLY)
    expect(page.locator("table.custom-ranking caption")).to_have_text(CAPTIONS["custom"][lang])
    expect(page.get_by_role("link", name=RESET[lang])).to_be_visible()

    after = ranking(page)
    assert_ranking_is_consistent(after)
    assert sorted(names(after)) == sorted(names(before))
    assert names(after) != names(before)
    top = after[0]
    assert (top["name"], top["rank"]) == (STRONG_ON_SDG9, 1)
    official = next(row for row in before if row["name"] == STRONG_ON_SDG9)
    assert top["official_rank"] == official["rank"] > 1
    assert top["arrow"] == f"↑{official['rank'] - 1}"
    # The official columns stay as published whatever the weights.
    assert {row["name"]: (row["official_rank"], row["official_net"]) for row in after} == {
        row["name"]: (row["rank"], row["net"]) for row in before
    }

    # The address is the profile: opened by someone else (a new browser context), the same page.
    shared = open_page()
    response = shared.goto(page.url)
    assert response.status == 200
    assert_shows_weights(shared, SDG9_ONLY)
    assert ranking(shared) == after
    for opened in (page, shared):
        assert opened.problems.console_errors == []
        assert opened.problems.other_hosts == []
        assert opened.problems.failed_requests == []


def test_the_form_works_without_javascript(open_page):
    page = open_page(javascript=False)
    page.goto(PATH.format(lang="en"))
    official = ranking(page)
    slider(page, "sdg7").press("End")
    slider(page, "sdg9").press("Home")
    slider(page, "sdg12").press("Home")
    expect(slider(page, "sdg7")).to_have_value("10")
    # No script runs: the number beside the slider is only brought up to date by submitting.
    expect(output(page, "sdg7")).to_have_text("1")

    page.get_by_role("button", name=SUBMIT["en"]).click()
    page.wait_for_url(re.compile(r"\?.*sdg7=10"))
    only_sdg7 = {"sdg7": "10", "sdg9": "0", "sdg12": "0", "alpha": "0.5"}
    assert query_of(page.url) == only_sdg7
    assert_shows_weights(page, only_sdg7)
    expect(page.locator("table.custom-ranking caption")).to_have_text(CAPTIONS["custom"]["en"])
    rows = ranking(page)
    assert_ranking_is_consistent(rows)
    assert names(rows) != names(official)
    assert any(row["change"].startswith("up ") for row in rows)
    assert any(row["change"].startswith("down ") for row in rows)

    # The same address with the script on ranks the same way: nothing depends on the script.
    scripted = open_page()
    scripted.goto(page.url)
    assert ranking(scripted) == rows
    # And the reset link is a plain link, so it works without the script too.
    page.get_by_role("link", name=RESET["en"]).click()
    page.wait_for_url(re.compile(r"/en/rankings/custom/$"))
    assert ranking(page) == official


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_reset_link_returns_to_the_official_ranking(open_page, lang):
    page = open_page()
    page.goto(PATH.format(lang=lang) + SDG9_QUERY)
    assert_shows_weights(page, SDG9_ONLY)
    assert any(row["change"] != NO_CHANGE[lang] for row in ranking(page))

    page.get_by_role("link", name=RESET[lang]).click()
    page.wait_for_url(re.compile(rf"/{lang}/rankings/custom/$"))
    assert_shows_weights(page, OFFICIAL)
    expect(page.get_by_role("link", name=RESET[lang])).to_have_count(0)
    expect(page.locator("table.custom-ranking caption")).to_have_text(CAPTIONS["official"][lang])
    rows = ranking(page)
    assert_ranking_is_consistent(rows)
    for row in rows:
        assert (row["arrow"], row["change"]) == ("–", NO_CHANGE[lang]), row
        assert (row["rank"], row["net"]) == (row["official_rank"], row["official_net"]), row

    # The official ranking is the one on the home page, in the same order.
    home = open_page()
    home.goto(f"/{lang}/")
    home_names = home.locator("table.rankings tbody tr th a").all_inner_texts()
    assert names(rows) == [name.strip() for name in home_names]

    # Submitting the official weights themselves is the official ranking too, with no reset link.
    page.get_by_role("button", name=SUBMIT[lang]).click()
    page.wait_for_url(re.compile(r"\?.*alpha=0\.5"))
    assert query_of(page.url) == OFFICIAL
    expect(page.locator("table.custom-ranking caption")).to_have_text(CAPTIONS["official"][lang])
    expect(page.get_by_role("link", name=RESET[lang])).to_have_count(0)
    assert ranking(page) == rows


@pytest.mark.parametrize(
    ("lang", "query", "scheme"),
    [
        ("en", "", "light"),
        ("ja", "", "light"),
        ("en", SDG9_QUERY, "light"),
        ("ja", SDG9_QUERY, "light"),
        ("en", SDG9_QUERY, "dark"),
    ],
)
def test_both_languages_render_and_are_axe_clean(open_page, lang, query, scheme):
    page = open_page(width=1280, color_scheme=scheme)
    response = page.goto(PATH.format(lang=lang) + query)
    assert response.status == 200
    assert page.evaluate("document.documentElement.lang") == lang
    expect(page.locator("h1")).to_have_text(HEADINGS[lang])
    expect(page.get_by_role("button", name=SUBMIT[lang])).to_be_visible()
    for name in NAMES:
        expect(slider(page, name)).to_be_visible()
    expect(page.locator("table.custom-ranking tbody tr")).to_have_count(14)
    expect(page.get_by_role("table", name=CAPTIONS["custom" if query else "official"][lang])).to_be_visible()
    assert strict_axe(page) == []
    assert axe_violations(page) == []
    page.wait_for_load_state("networkidle")
    assert page.problems.console_errors == []
    assert page.problems.other_hosts == []
    assert page.problems.failed_requests == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_on_a_phone_the_sliders_fit_and_work_and_the_rows_are_cards(open_page, lang):
    page = open_page(width=360, height=800)
    page.goto(PATH.format(lang=lang) + SDG9_QUERY)
    for name in NAMES:
        box = slider(page, name).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 200, (name, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (name, box)
        expect(output(page, name)).to_be_visible()
        assert output(page, name).bounding_box()["x"] + output(page, name).bounding_box()["width"] <= 360
    # A finger on the far ends of a track sets the slider there.
    sdg12 = slider(page, "sdg12")
    sdg12.scroll_into_view_if_needed()
    box = sdg12.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    expect(output(page, "sdg12")).to_have_text("10")
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    expect(output(page, "sdg12")).to_have_text("0")
    button = page.get_by_role("button", name=SUBMIT[lang])
    expect(button).to_be_visible()
    button_box = button.bounding_box()
    assert button_box["height"] >= 24 and button_box["x"] + button_box["width"] <= 360

    # The rows are cards: no header row in sight, each figure labelled, the project on top.
    assert_no_sideways_scroll(page, ".rankings-region")
    assert page.locator("table.custom-ranking thead").bounding_box()["height"] <= 1
    cards = page.locator("table.custom-ranking tbody tr")
    expect(cards).to_have_count(14)
    first = cards.first
    assert first.evaluate("row => getComputedStyle(row).display") in ("grid", "block", "flex")
    assert first.evaluate("row => row.getBoundingClientRect().width") <= 360
    labels = first.locator("td").evaluate_all(
        "cells => cells.map(c => [getComputedStyle(c, '::before').content, c.dataset.label])"
    )
    assert [content for content, _label in labels] == [f'"{label}"' for label in LABELS[lang]]
    assert [label for _content, label in labels] == LABELS[lang]
    name_top = first.locator("th").bounding_box()["y"]
    assert all(name_top < cell.bounding_box()["y"] for cell in first.locator("td").all())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"custom-ranking-{lang}-360.png"), full_page=True)
    assert strict_axe(page) == []
    # Last, so that a failure here says only this: the page as a whole scrolls sideways (and what
    # sticks out: a box whose content is wider than itself, such as an unbreakable long text).
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.evaluate(OVERFLOWING_JS)


@pytest.mark.parametrize(
    ("lang", "query", "named"),
    [
        ("en", "?sdg7=0&sdg9=0&sdg12=0", "Weights: Give at least one SDG a weight above 0."),
        ("ja", "?sdg7=0&sdg9=0&sdg12=0", "重み: 少なくとも一つのSDGに0より大きい重みを付けてください。"),
        ("en", "?sdg7=-1&sdg9=1&sdg12=1&alpha=0.5", "SDG 7:"),
        ("en", "?sdg7=1&sdg9=11&sdg12=1&alpha=0.5", "SDG 9:"),
        ("en", "?sdg7=1&sdg9=1&sdg12=abc&alpha=0.5", "SDG 12:"),
        ("en", "?sdg7=1&sdg9=1&sdg12=1&alpha=1.5", "Risk penalty α:"),
        ("ja", "?sdg7=1&sdg9=1&sdg12=1&alpha=-0.1", "リスクによる割引α:"),
    ],
)
def test_bad_weights_are_a_400_with_an_alert_naming_them(open_page, lang, query, named):
    page = open_page()
    response = page.goto(PATH.format(lang=lang) + query)
    assert response.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert).to_be_visible()
    assert "problem" in alert.get_attribute("class").split()
    expect(alert.locator("li")).to_have_count(1)
    expect(alert.locator("li")).to_contain_text(named)
    # No ranking under weights that cannot be used; the form is still there to put them right.
    expect(page.locator("table.custom-ranking")).to_have_count(0)
    expect(page.get_by_role("button", name=SUBMIT[lang])).to_be_visible()
    expect(page.get_by_role("link", name=RESET[lang])).to_be_visible()
    assert strict_axe(page) == []
