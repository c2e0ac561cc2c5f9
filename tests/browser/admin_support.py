"""Helpers for admin browser tests: signed-in pages per role and language, a click counter, axe,
fit and screenshots.

``admin_page(user, lang)`` opens a 1366 × 768 page already signed in as ``user`` with the second
factor verified (a Django session made on the server, its cookie given to the browser: nobody types
a code), in English or Japanese (the ``django_language`` cookie the admin's language selector sets,
and the browser's locale). ``log_in_with_code`` is the real login form with a real TOTP code, for
the one test that must go through it.

Every page counts, in its tab's sessionStorage (so the count survives page loads), the mouse clicks
a person makes (trusted ``pointerdown``s: a click on a label that ticks its radio is one click) and
the choices made in drop-down lists by Playwright's ``select_option`` (it clicks nothing; a person
clicks to open the list and to choose: each choice counts as one; a list moved with the keyboard,
a trusted change, counts none). ``clicks(page)`` reads the total;
``page.loads`` lists the pages loaded in the main frame.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from tests.browser.conftest import ARTIFACTS, open_context
from tests.support.actors import staff_user

WIDTH, HEIGHT = 1366, 768
LANGUAGES = ("en", "ja")
LOCALES = {"en": "en-GB", "ja": "ja-JP"}
ROLES = ("analyst", "reviewer", "administrator")
PASSWORD = "a-long-browser-test-password"  # noqa: S105 (test users only)

CLICKS_KEY = "sdgscore-test-clicks"
CLICK_COUNTER = """
(() => {
  const key = __KEY__;
  const bump = () => {
    try {
      sessionStorage.setItem(key, String(Number(sessionStorage.getItem(key) || 0) + 1));
    } catch (error) { /* about:blank and other opaque origins have no sessionStorage */ }
  };
  document.addEventListener("pointerdown", (event) => {
    if (event.isTrusted && event.button === 0) bump();
  }, true);
  document.addEventListener("change", (event) => {
    if (!event.isTrusted && event.target instanceof HTMLSelectElement) bump();
  }, true);
})();
""".replace("__KEY__", json.dumps(CLICKS_KEY))


def role_user(role: str, *, username: str | None = None, password: str | None = None):
    """A staff member in the group of that role (analyst, reviewer or administrator), made when
    missing; with a password when one is given (for the real login form)."""
    assert role in ROLES, role
    user = staff_user(username or f"walk-{role}", groups=(role,))
    if password is not None:
        user.set_password(password)
        user.save()
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def authenticator(user):
    """The user's confirmed authenticator app (TOTP), made when missing."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Browser test authenticator")


def session_cookie(user, live_server, *, second_factor: bool = True) -> dict:
    """A signed-in session for ``user`` as a Playwright cookie: what the login form would leave,
    the second factor verified (by an authenticator app made if missing) unless told otherwise."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if second_factor:
        session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.create()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}


def language_cookie(lang: str, live_server) -> dict:
    return {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}


def log_in_with_code(page, user, password: str = PASSWORD) -> None:
    """The admin's login form, as a person fills it: name, password and the authenticator's
    current code."""
    from django_otp.oath import totp

    device = authenticator(user)
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill(user.get_username())
    page.locator("#id_password").fill(password)
    page.locator("#id_otp_token").fill(f"{totp(device.bin_key):06d}")
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/admin/")


@pytest.fixture
def admin_page(browser, live_server):
    """A factory: ``admin_page(user=None, lang="en")`` → a 1366 × 768 page in its own context,
    signed in as ``user`` (none: signed out), its problems on ``page.problems``, the pages it
    loaded on ``page.loads`` and its language on ``page.lang``."""
    contexts = []

    def factory(
        user=None, lang: str = "en", *, second_factor=True, width=WIDTH, height=HEIGHT, javascript=True
    ):
        context, problems = open_context(
            browser, live_server, width=width, height=height, locale=LOCALES[lang], javascript=javascript
        )
        contexts.append(context)
        cookies = [language_cookie(lang, live_server)]
        if user is not None:
            cookies.append(session_cookie(user, live_server, second_factor=second_factor))
        context.add_cookies(cookies)
        context.add_init_script(CLICK_COUNTER)
        page = context.new_page()
        page.lang = lang
        page.loads = []
        page.on(
            "console",
            lambda message: message.type == "error" and problems.console_errors.append(message.text),
        )
        page.on("pageerror", lambda error: problems.console_errors.append(str(error)))
        page.on("requestfailed", lambda request: problems.failed_requests.append(request.url))
        page.on("framenavigated", lambda frame: frame == page.main_frame and page.loads.append(frame.url))
        page.problems = problems
        return page

    yield factory
    for context in contexts:
        context.close()


def clicks(page) -> int:
    """How many clicks (and drop-down choices) a person made in this tab since the last reset."""
    return int(page.evaluate(f"Number(sessionStorage.getItem({CLICKS_KEY!r}) || 0)"))


def reset_clicks(page) -> None:
    page.evaluate(f"sessionStorage.removeItem({CLICKS_KEY!r})")


def axe_check(page, context=None) -> list[str]:
    """axe-core's violations on the page as it is now, one readable line each (empty: none)."""
    from axe_playwright_python.sync_playwright import Axe

    errors = getattr(getattr(page, "problems", None), "console_errors", None)
    before = len(errors) if errors is not None else 0
    results = Axe().run(page, context=context)
    if errors is not None:  # axe's own inline styles, refused by the admin's CSP, are not the page's
        errors[before:] = [error for error in errors[before:] if "Content Security Policy" not in error]
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"{[node['target'] for node in violation['nodes']][:8]}"
        for violation in results.response["violations"]
    ]


WIDER_THAN_THE_WINDOW = """
() => {
  const width = window.innerWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 0.5 && box.width > 0) {
      const parentBox = element.parentElement.getBoundingClientRect();
      if (parentBox.right <= width + 0.5 || element.parentElement === document.body) {
        const id = element.id ? "#" + element.id : "";
        const cls = element.classList.length ? "." + [...element.classList].join(".") : "";
        wide.push(`${element.tagName.toLowerCase()}${id}${cls} right=${Math.round(box.right)}`);
      }
    }
  }
  return wide.slice(0, 8);
}
"""


def overflow(page) -> list[str]:
    """The outermost elements reaching past the window's right edge (empty when nothing does);
    what makes the page scroll sideways, if it does."""
    return page.evaluate(WIDER_THAN_THE_WINDOW)


def fits(page) -> bool:
    """True when the page does not scroll sideways at the window's width."""
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def assert_fits(page) -> None:
    assert fits(page), f"{page.url} scrolls sideways; too wide: {overflow(page)}"


def shot(page, name: str, *, full_page: bool = False) -> str:
    """A screenshot at tests/artifacts/admin-<name>-<lang>.png; returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"admin-{name}-{getattr(page, 'lang', 'en')}.png"
    # The caret left as it is: hiding it injects a <style>, which the admin's CSP refuses (logged).
    page.screenshot(path=str(path), full_page=full_page, caret="initial")
    return str(path)
