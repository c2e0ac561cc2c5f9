"""Issue 15 in a real browser: the project page's "How sure is this grade?" block in both
languages, at a desktop's and a phone's width, screenshotted (tests/artifacts/uncertainty-*.png),
axe-clean with its table open and closed; its grade-change links lead to the criterion."""

import pytest
from playwright.sync_api import expect

from projects.models import ProjectUncertainty

from .conftest import ARTIFACTS
from .test_reader_glance import strict_axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HEADINGS = {"en": "How sure is this grade?", "ja": "この評点はどこまで確かか"}
LABELS = {"en": "Borderline", "ja": "境界付近"}


@pytest.mark.parametrize(
    ("lang", "width"), [("en", 1366), ("ja", 1366), ("en", 1280), ("ja", 1280), ("en", 360), ("ja", 360)]
)
def test_the_uncertainty_block_reads_well_and_is_axe_clean(open_page, lang, width):
    page = open_page(width=width, height=900)
    page.goto(f"/{lang}/projects/hayabusa2/")  # a borderline demo project, with grade changes
    block = page.locator("section#uncertainty")
    expect(block.locator("h2")).to_have_text(HEADINGS[lang])
    expect(block.locator(".stability-label")).to_have_text(LABELS[lang])
    chart = block.locator("figure.interval-chart svg")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert 300 <= box["width"] <= width and box["height"] > 40
    expect(block.locator("svg.share-bar rect")).to_have_count(2)  # C and D
    changes = ProjectUncertainty.objects.get(project__slug="hayabusa2").grade_changes
    expect(block.locator("ul.grade-changes li")).to_have_count(len(changes))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(exist_ok=True)
    block.screenshot(path=str(ARTIFACTS / f"uncertainty-{lang}-{width}.png"))
    assert strict_axe(page) == []

    table = block.locator("details.uncertainty-table table").first
    expect(table).to_be_hidden()
    block.locator("details.uncertainty-table > summary").click()
    expect(table).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert strict_axe(page) == []


def test_a_grade_change_leads_to_its_criterion(page):
    page.goto("/en/projects/hayabusa2/")
    link = page.locator("ul.grade-changes a").first
    target = link.get_attribute("href")
    link.click()
    expect(page.locator(target)).to_be_visible()
    expect(page.locator(target).locator("xpath=ancestor::details[1]")).to_have_attribute("open", "")


def test_the_rankings_show_rank_intervals_on_a_phone(open_page):
    page = open_page(width=360, height=800)
    page.goto("/ja/")
    first = page.locator("table.rankings tbody tr").first.locator(".rank-interval")
    expect(first).to_be_visible()
    expect(first).to_contain_text("シナリオの90%で")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
