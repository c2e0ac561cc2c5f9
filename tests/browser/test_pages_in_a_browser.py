"""The public pages in a real browser: sorting, filtering, the project card, languages, compare, badge."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def ranking_names(page) -> list[str]:
    return page.locator("table.rankings tbody th a").all_inner_texts()


def net_scores(page) -> list[float]:
    return [float(text) for text in page.locator("table.rankings tbody .net").all_inner_texts()]


def test_home_sorts_by_a_column_heading(page):
    page.goto("/en/")
    assert net_scores(page) == sorted(net_scores(page), reverse=True)
    page.get_by_role("link", name=re.compile(r"^Project")).click()
    expect(page).to_have_url(re.compile(r"\?sort=name$"))
    names = ranking_names(page)
    assert names == sorted(names, key=str.lower)
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Project")
    page.get_by_role("link", name=re.compile(r"^Project")).click()
    assert ranking_names(page) == sorted(names, key=str.lower, reverse=True)


def test_home_filters_with_shareable_links(page):
    page.goto("/en/")
    page.get_by_text("Filter projects").click()
    # The chip's name carries its count: "Mars (1)".
    page.locator("details.filters").get_by_role("link", name=re.compile(r"^Mars \(\d+\)$")).click()
    expect(page).to_have_url(re.compile(r"\?body=mars$"))
    assert ranking_names(page) == ["MOXIE on Perseverance"]
    shared = page.url
    page.goto(shared)
    assert ranking_names(page) == ["MOXIE on Perseverance"]
    page.get_by_role("link", name="Clear all filters").click()
    assert len(ranking_names(page)) == 14


def test_project_page_shows_the_score_card(page):
    page.goto("/en/projects/interlune-he3/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Interlune helium-3 harvesting")
    card = page.locator("section.score-card")
    expect(card.locator(".headline-grade")).to_contain_text("E")
    expect(card).to_contain_text("Net score")
    expect(card).to_contain_text("Confidence")
    expect(page.locator("svg.sdg-chart")).to_be_visible()
    expect(page.locator("#illustrative-note")).to_contain_text("Illustrative demo assessment.")
    expect(page.locator("li.criterion")).to_have_count(25)
    expect(page.locator("p.severe-explained")).to_contain_text("E3")


def test_language_switch_keeps_the_page(page):
    page.goto("/en/projects/hayabusa2/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="日本語").click()
    expect(page).to_have_url(re.compile(r"/ja/projects/hayabusa2/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#score-heading")).to_have_text("スコア")
    page.get_by_role("navigation", name="言語").get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/en/projects/hayabusa2/$"))


def test_root_follows_the_browsers_language(open_page):
    page = open_page(locale="ja-JP")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ja/$"))
    expect(page.locator("h1")).to_have_text("SDGsで評価した宇宙資源プロジェクト")


def test_compare_chosen_from_the_rankings(page):
    page.goto("/en/")
    page.get_by_label("Compare Hera").check()
    page.get_by_label("Compare VIPER").check()
    page.get_by_role("button", name="Compare selected projects").click()
    expect(page).to_have_url(re.compile(r"/en/compare/\?p=.*&p="))
    headers = page.locator("table.comparison thead th a").all_inner_texts()
    assert sorted(headers) == ["Hera", "VIPER"]


def test_compare_from_its_own_page(page):
    page.goto("/en/compare/")
    for name in ("Hayabusa2", "Hera", "Odin"):
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("table.comparison thead th a")).to_have_count(3)


def test_badge_renders_as_an_image(page):
    page.goto("/en/projects/hera/")
    badge = page.locator("section.embed img")
    expect(badge).to_be_visible()
    assert badge.evaluate("image => image.complete && image.naturalWidth > 60")
    response = page.goto("/en/projects/hera/badge.svg")
    assert response.headers["content-type"] == "image/svg+xml"
    expect(page.locator("svg")).to_contain_text("D · 28.5")


def test_keyboard_skip_link_reaches_the_main_content(page):
    page.goto("/en/projects/hera/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))


def test_everything_works_without_javascript(open_page):
    page = open_page(javascript=False)
    page.goto("/en/?sort=sdg9")
    page.get_by_role("link", name=re.compile(r"^SDG 9")).click()
    expect(page).to_have_url(re.compile(r"sort=-sdg9"))
    page.get_by_label("Compare Hera").check()
    page.get_by_label("Compare Odin").check()
    page.get_by_role("button", name="Compare selected projects").click()
    expect(page.locator("table.comparison thead th a")).to_have_count(2)


def test_print_hides_navigation_and_keeps_the_card(page):
    page.goto("/en/projects/hera/")
    page.emulate_media(media="print")
    expect(page.locator("nav.site-nav")).to_be_hidden()
    expect(page.locator("section.score-card")).to_be_visible()


def test_project_page_at_360_pixels_fits_and_is_saved_as_a_screenshot(open_page):
    page = open_page(width=360, height=780)
    page.goto("/en/projects/hakuto-r-m2/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "project-360.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
