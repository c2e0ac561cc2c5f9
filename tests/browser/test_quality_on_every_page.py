"""Every page, in both languages: no console errors, nothing from another host, axe clean, fits 360 px."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAGES = [
    "/{lang}/",
    "/{lang}/?body=moon&sort=-sdg7",
    "/{lang}/projects/interlune-he3/",
    "/{lang}/projects/destiny-plus/",
    "/{lang}/methodology/",
    "/{lang}/compare/",
    "/{lang}/compare/?p=hera&p=viper&p=astroforge-odin",
    "/{lang}/operators/",
    "/{lang}/open-data/",
    "/{lang}/projects/no-such-project/",
]
ALL = [path.format(lang=lang) for lang in ("en", "ja") for path in PAGES]


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']}: {violation['help']} {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
    ]


@pytest.mark.parametrize("path", ALL)
def test_axe_reports_no_violations_on_desktop(open_page, path):
    page = open_page(width=1280)
    page.goto(path)
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", [path for path in ALL if path.startswith("/en/")])
def test_axe_reports_no_violations_at_360_px(open_page, path):
    page = open_page(width=360)
    page.goto(path)
    assert axe_violations(page) == []


DARK = [
    "/en/",
    "/ja/projects/interlune-he3/",
    "/en/projects/destiny-plus/",
    "/en/methodology/",
    "/ja/compare/?p=hera&p=viper",
]


@pytest.mark.parametrize("path", DARK)
def test_dark_mode_is_axe_clean_and_dark(open_page, path):
    """With the system in dark mode the pages turn dark, and every text keeps its contrast."""
    page = open_page(width=1280, color_scheme="dark")
    page.goto(path)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 23, 28)"
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ALL)
def test_no_console_errors_no_other_hosts_and_no_sideways_scrolling(open_page, path):
    page = open_page(width=360)
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    expected_status = 404 if "no-such-project" in path else 200
    assert response.status == expected_status
    errors = [e for e in page.problems.console_errors if not (expected_status == 404 and "404" in e)]
    assert errors == []
    assert page.problems.other_hosts == []
    assert page.problems.failed_requests == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def assert_no_sideways_scroll(page, region: str) -> None:
    """Nothing inside the table's scrolling box is wider than the box."""
    assert page.locator(region).evaluate("element => element.scrollWidth <= element.clientWidth")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_rankings_need_no_sideways_scroll_on_a_phone(open_page, lang):
    """At 360 px the rankings are cards: nothing inside the table's box scrolls sideways either."""
    page = open_page(width=360)
    page.goto(f"/{lang}/")
    assert_no_sideways_scroll(page, ".rankings-region")
    first = page.locator("table.rankings tbody tr").first
    assert first.evaluate("row => row.getBoundingClientRect().width") <= 360
    labels = first.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert len(labels) == 9 and all(label not in ("none", "normal", '""') for label in labels)
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_comparison_needs_no_sideways_scroll_on_a_phone(open_page, lang):
    page = open_page(width=360)
    page.goto(f"/{lang}/compare/?p=hera&p=viper&p=astroforge-odin")
    assert_no_sideways_scroll(page, ".comparison-region")
    # The three names side by side, each value under its project's name.
    names = page.locator("table.comparison thead th").evaluate_all(
        "cells => cells.map(c => Math.round(c.getBoundingClientRect().left))"
    )
    row = page.locator("table.comparison tbody tr").nth(3)
    values = row.locator("td").evaluate_all(
        "cells => cells.map(c => Math.round(c.getBoundingClientRect().left))"
    )
    assert len(names) == 3 and names == values
    assert axe_violations(page) == []


def test_japanese_row_labels_keep_their_words_whole(open_page):
    page = open_page(width=1280)
    page.goto("/ja/compare/?p=hera&p=viper")
    label = page.locator("table.comparison tbody th", has_text="純スコア")
    assert label.evaluate("th => getComputedStyle(th).wordBreak") == "keep-all"
