"""The admin's language selector in a real browser: with the keyboard, with and without JavaScript,
and a header that still fits a 1366 px screen in both languages."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, log_in_to_admin, open_context
from tests.support.builders import imported

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "a-long-browser-test-password"


@pytest.fixture
def admin_page(browser, live_server):
    contexts = []

    def factory(javascript=True, locale="en-GB"):
        context, problems = open_context(
            browser, live_server, width=1366, height=768, locale=locale, javascript=javascript
        )
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.console_errors.append(str(error)))
        page.problems = problems
        return page

    yield factory
    for context in contexts:
        context.close()


def header_fits(page) -> None:
    """Nothing scrolls sideways, the header is one row, and the selector overlaps nothing."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    boxes = {
        name: page.locator(selector).bounding_box()
        for name, selector in {
            "name": "#site-name",
            "selector": "#language-form",
            "tools": "#user-tools",
            "header": "#header",
        }.items()
    }
    assert boxes["selector"]["x"] >= boxes["name"]["x"] + boxes["name"]["width"]
    assert boxes["selector"]["x"] + boxes["selector"]["width"] <= boxes["tools"]["x"]
    assert boxes["header"]["height"] < 80  # one row: nothing wrapped under the site name


@pytest.mark.parametrize("javascript", [True, False])
def test_switching_the_admin_to_japanese_and_back_with_the_keyboard(admin_page, live_server, javascript):
    imported("alpha")
    user = get_user_model().objects.create_superuser("demo-reviewer", password=PASSWORD)
    page = admin_page(javascript=javascript)
    log_in_to_admin(page, user, PASSWORD)
    header_fits(page)  # the home page: its header has one link more
    page.goto("/admin/projects/project/")
    header_fits(page)

    page.get_by_label("Language").focus()
    page.keyboard.press("End" if javascript else "ArrowDown")  # without a click, nothing is sent yet
    page.get_by_label("Language").select_option("ja")
    assert page.url.endswith("/admin/projects/project/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the submit button
    page.wait_for_url("**/admin/projects/project/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#site-name")).to_have_text("sdgscore 管理")
    expect(page.locator("#result_list thead")).to_contain_text("公開版")
    header_fits(page)
    if javascript:
        page.screenshot(path=str(ARTIFACTS / "admin-language-ja-1366.png"))
        # The selector is labelled and readable on the header's colour: axe finds nothing there.
        from axe_playwright_python.sync_playwright import Axe

        violations = Axe().run(page, context="#language-form").response["violations"]
        assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []

    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="切り替え", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#result_list thead")).to_contain_text("Published")
    assert page.problems.console_errors == []


def test_the_login_page_offers_the_selector(admin_page):
    page = admin_page(locale="en-GB")
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Language").select_option("ja")
    page.get_by_role("button", name="Switch", exact=True).click()
    expect(page.get_by_role("button", name="ログイン")).to_be_visible()
    expect(page.locator("#login-form")).to_contain_text("二要素認証コード")
