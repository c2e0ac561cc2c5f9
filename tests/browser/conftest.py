"""Browser tests: Playwright driving the system's Chromium against pytest-django's live server.

Skipped cleanly when Chromium (CHROMIUM_PATH, default /usr/bin/chromium) or Playwright is absent;
.ci/browser installs Chromium and runs them. Never run `playwright install`: no browser download.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from projects.interchange.importer import projects_import
from projects.management.commands.import_projects import read_interchange_file
from projects.management.commands.load_demo import DEMO_FILE
from tests.support.actors import reviewer_user

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from fixtures
# are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def playwright():
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"no Chromium at {CHROMIUM_PATH} (set CHROMIUM_PATH, or run .ci/browser)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright):
    """One Chromium per test module, so a crash cannot take every later test with it."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()


@pytest.fixture
def demo_site(live_server):
    """The 14 demo missions, published, with their uncertainty figures (as ``make run`` has
    them); served by the live server."""
    from projects.services.uncertainty import uncertainty_compute

    projects_import(
        read_interchange_file(str(DEMO_FILE)),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    uncertainty_compute(reason="demo data")
    return live_server


class Problems:
    """What a page did wrong while a test used it: console errors and requests to other hosts."""

    def __init__(self):
        self.console_errors: list[str] = []
        self.other_hosts: list[str] = []
        self.failed_requests: list[str] = []


def open_context(
    browser, live_server, *, width=1280, height=900, locale="en-GB", javascript=True, color_scheme="light"
):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": height},
        locale=locale,
        java_script_enabled=javascript,
        color_scheme=color_scheme,
    )
    problems = Problems()
    own_host = urlsplit(live_server.url).netloc

    def guard(route):
        if urlsplit(route.request.url).netloc != own_host:
            problems.other_hosts.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    return context, problems


@pytest.fixture
def open_page(browser, demo_site):
    """A factory: a new page (own context) whose problems are recorded on ``page.problems``."""
    contexts = []

    def factory(**options):
        context, problems = open_context(browser, demo_site, **options)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: message.type == "error" and problems.console_errors.append(message.text),
        )
        page.on("pageerror", lambda error: problems.console_errors.append(str(error)))
        page.on("requestfailed", lambda request: problems.failed_requests.append(request.url))
        page.problems = problems
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page()


def log_in_to_admin(page, user, password: str) -> None:
    """Through the admin's login form, as a person does: with DEBUG off reviewers and administrators
    must use a second factor, so every staff user logging in here has an authenticator app (made if
    missing) and types its current code."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="Browser test authenticator")
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill(user.get_username())
    page.locator("#id_password").fill(password)
    page.locator("#id_otp_token").fill(f"{totp(device.bin_key):06d}")
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/admin/")
