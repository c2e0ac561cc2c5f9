"""The rating sheet in a real browser: an analyst adds a project and rates all 25 criteria with a
few clicks and the keyboard, and the sheet fits a 1366 × 768 screen without sideways scrolling."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from projects.interchange.importer import projects_import
from projects.models import Assessment, Operator, Project
from tests.admin.pages import ratings
from tests.browser.conftest import ARTIFACTS, log_in_to_admin, open_context
from tests.conftest import interchange, project_record
from tests.support.criteria import CODES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "a-long-browser-test-password"
MAX_CLICKS = 60


def analyst():
    user = get_user_model().objects.create_user("sheet-analyst", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="analyst"))
    return user


class Clicks:
    """Every click (or select) the test makes, counted: the sheet is meant to be quick to fill."""

    def __init__(self):
        self.count = 0

    def click(self, locator):
        self.count += 1
        locator.click()


@pytest.fixture
def sheet_page(browser, live_server):
    contexts = []

    def factory(width=1366, height=768, locale="en-GB"):
        context, problems = open_context(browser, live_server, width=width, height=height, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.console_errors.append(str(error)))
        page.on(
            "console",
            lambda message: message.type == "error" and problems.console_errors.append(message.text),
        )
        page.problems = problems
        return page

    yield factory
    for context in contexts:
        context.close()


def levels_for(code: str) -> int:
    """The level the test gives each criterion: 0–4, varied, 3 for every risk criterion but D1."""
    if code == "D1":
        return 0
    if code[0] in "DE":
        return 3
    return int(code[-1]) % 5


def test_an_analyst_adds_a_project_and_rates_every_criterion_with_few_clicks(sheet_page):
    user = analyst()
    operator = Operator.objects.create(name="Lunar Outpost", country="US", kind="company")
    page = sheet_page()
    log_in_to_admin(page, user, PASSWORD)
    clicks = Clicks()

    # The add form (reached from the operator, which it then names), then straight to the sheet.
    page.goto(f"/admin/projects/project/add/?operator={operator.pk}")
    page.get_by_label("Name:").fill("Polar Ice Prospector")
    page.get_by_label("Target body:").select_option("moon")
    page.get_by_label("Phase:").select_option("prospecting")
    clicks.count += 2  # the two selects
    clicks.click(page.locator("input[name=_save]"))
    expect(page).to_have_url(re.compile(r"/admin/projects/project/\d+/ratings/$"))
    expect(page.locator("fieldset.sheet-criterion")).to_have_count(25)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rating_sheet_new_project.png"), full_page=False)
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")

    # SDG criteria: one click on the level's text, then the keyboard for the evidence.
    for code in [*CODES["sdg7"], *CODES["sdg9"], *CODES["sdg12"]]:
        fieldset = page.locator(f"#criterion-{code.replace('.', '_')}")
        clicks.click(fieldset.locator(f"label.sheet-level:has(input[value='{levels_for(code)}'])"))
        page.keyboard.press("Tab")
        page.keyboard.type(f"Evidence for {code}.")
        page.keyboard.press("Tab")  # the optional Japanese justification
        page.keyboard.insert_text(f"{code}の根拠。")
        page.keyboard.press("Tab")
        page.keyboard.type("B")
        page.keyboard.press("Tab")
        page.keyboard.type(f"https://example.org/{code}")
    # Risk criteria: the keyboard only. Tab reaches the group's chosen radio ("not assessed",
    # the last); the arrow keys move the choice, wrapping round to level 0.
    for code in [*CODES["debris"], *CODES["equity"]]:
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.name + '=' + document.activeElement.value")
        assert focused == f"{code.replace('.', '_')}-rating=", focused
        for _ in range(levels_for(code) + 1):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", f"no visible focus on {code}'s justification"
        page.keyboard.type(f"Evidence for {code}.")
        page.keyboard.press("Tab")  # the Japanese justification, left empty
        page.keyboard.press("Tab")
        page.keyboard.type("C")
        page.keyboard.press("Tab")
        page.keyboard.type(f"https://example.org/{code}")
    page.keyboard.press("Enter")  # in a text field: the form's first button, Save

    expect(page).to_have_url(re.compile(r"/admin/projects/project/\d+/change/$"))
    expect(page.locator(".messagelist")).to_contain_text("25 ratings")
    assert clicks.count <= MAX_CLICKS, clicks.count
    assert page.problems.console_errors == []
    project = Project.objects.get(name="Polar Ice Prospector")
    stored = {
        a.criterion.code: a for a in Assessment.objects.filter(project=project).select_related("criterion")
    }
    assert sorted(stored) == sorted(code for codes in CODES.values() for code in codes)
    for code, assessment in stored.items():
        grade = "C" if code[0] in "DE" else "B"
        assert (assessment.level, assessment.evidence_grade) == (levels_for(code), grade), code
        assert assessment.justification == f"Evidence for {code}."
        assert assessment.justification_ja == ("" if code[0] in "DE" else f"{code}の根拠。")
        assert assessment.source_url == f"https://example.org/{code}"
        assert assessment.assessed_by == user
    assert project.score_history.count() == 1
    summary = page.locator(".field-ratings_summary")
    expect(summary.locator("a.rating-sheet-link")).to_have_text("Rate on the rating sheet (25 of 25 rated)")
    summary.screenshot(path=str(ARTIFACTS / "rating_sheet_summary_on_project_page.png"))


def test_the_sheet_fits_1366_by_768_without_sideways_scrolling(sheet_page):
    user = analyst()
    long_link = "https://example.org/" + "a-very-long-path-segment/" * 12
    items = ratings(missing={"E5"})
    for item in items:
        item["source_url"] = long_link
    projects_import(interchange(project_record("wide", name="Wide Sheet", assessments=items)))
    project = Project.objects.get(slug="wide")
    page = sheet_page(width=1366, height=768)
    log_in_to_admin(page, user, PASSWORD)
    page.goto(f"/admin/projects/project/{project.pk}/ratings/")
    # An error on the page as well: a rated criterion without its justification.
    page.locator("#criterion-E5 label.sheet-level:has(input[value='2'])").click()
    page.locator("input[name=_continue]").click()
    expect(page.locator("#id_E5-justification_error")).to_be_visible()

    width = page.evaluate("document.scrollingElement.scrollWidth")
    inner = page.evaluate("innerWidth")
    assert width <= inner, (width, inner)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rating_sheet_1366x768.png"), full_page=False)
    page.locator("#criterion-E5").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "rating_sheet_1366x768_error.png"), full_page=False)
    assert page.problems.console_errors == []
    # Every input named, errors tied to their fields, contrast: axe finds nothing in the sheet.
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, context="#rating_sheet").response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations] == []
