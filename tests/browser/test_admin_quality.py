"""Every admin page the role walks visit, in English and Japanese at 1366 × 768: axe finds no
violation, nothing scrolls sideways, the page logs no error, and a screenshot is kept
(tests/artifacts/admin-<page>-<lang>.png).

Pages whose templates are being rewritten elsewhere (projects, methodology) are expected to fail
while that work lands: their cases are marked xfail (not strict) with what was found, so they turn
into passes without an edit here once fixed.
"""

from dataclasses import dataclass, field

import pytest
from django_otp.oath import totp

from projects.models import Assessment, Methodology, Project
from projects.services.ratings import assessment_save
from tests.browser import admin_support
from tests.browser.admin_support import (
    LANGUAGES,
    authenticator,
    axe_check,
    overflow,
    role_user,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

admin_page = admin_support.admin_page  # the fixture

DEMO_SLUG = "interlune-he3"


def draft_of(slug: str) -> Project:
    """A demo project with a draft waiting for a reviewer: its summary and one rating changed by
    ``tester`` (the analyst the tests act as), so a reviewer may publish it."""
    project = Project.objects.get(slug=slug)
    project.summary = f"{project.summary} Revised after the operator's 2025 update."
    project.save()
    assessment = (
        Assessment.objects.filter(project=project, level__isnull=False, not_applicable=False)
        .order_by("criterion__code")
        .first()
    )
    assessment.level = (assessment.level + 1) % 5
    assessment_save(assessment)
    return Project.objects.get(pk=project.pk)


def demo_project() -> Project:
    return Project.objects.get(slug=DEMO_SLUG)


@dataclass
class AdminPage:
    """One admin page to check: who looks at it, how to reach it, and whether its files are ours
    to fix (``others``: the engineer now rewriting them, and what axe found there)."""

    name: str
    role: str | None  # None: signed out
    path: object  # a str, or a callable returning the path (after making what it needs)
    others: str = ""
    second_factor: bool = True
    then: object = None  # an action on the page once loaded (e.g. posting a form)
    xfail: dict = field(default_factory=dict)  # lang → why

    def url(self) -> str:
        return self.path() if callable(self.path) else self.path


def renew_recovery_codes(page) -> None:
    """From the two-factor page: new recovery codes, for a fresh code (the page they show on)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="walk-reviewer")
    page.locator("#id_renew-code").fill(f"{totp(authenticator(user).bin_key):06d}")
    page.locator("#id_renew-code").press("Enter")
    page.wait_for_load_state()


def webhook_subscription():
    """A key's subscription with one delivery that failed once and was then delivered."""
    from django.utils import timezone

    from projects.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEvent
    from projects.services.webhooks import subscription_create

    key = (
        ApiKey.objects.filter(name="Data desk").first()
        or (ApiKey.issue(owner=role_user("administrator"), name="Data desk", scope="read")[0])
    )
    subscription, _secret = subscription_create(
        key,
        {
            "url": "https://hooks.example.org/sdgscore/incoming",
            "events": ["project.published", "project.withdrawn"],
            "bodies": ["moon"],
        },
    )
    now = timezone.now()
    event = WebhookEvent.objects.create(
        message_id=f"msg_walk{subscription.pk}",
        type="project.published",
        created_at=now,
        body='{"id": "msg_walk", "type": "project.published", "data": {"slug": "interlune-he3"}}',
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=event, state="delivered", attempts=2, last_status=200
    )
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, at=now, outcome="failed", error="answered 500", status=500
    )
    WebhookAttempt.objects.create(delivery=delivery, number=2, at=now, outcome="delivered", status=200)
    return subscription


def create_a_subscription(page) -> None:
    """On the add page: choose the key, give the endpoint and an event, save (the secret page)."""
    page.locator("#id_api_key").select_option(index=1)
    page.locator("#id_url").fill("https://hooks.example.org/sdgscore/new")
    page.locator("input[name=events][value='project.published']").check()
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()


def both(reason: str) -> dict:
    return dict.fromkeys(LANGUAGES, reason)


PROJECTS = "projects admin (projects/admin/projects.py, project templates; engineers on the sheet/workflow)"
METHOD = "methodology admin (engineer 'method')"

PAGES = [
    AdminPage("index", "administrator", "/admin/"),
    AdminPage("login", None, "/admin/login/?next=/admin/"),
    AdminPage("project-list", "analyst", "/admin/projects/project/", others=PROJECTS),
    AdminPage(
        "project-add",
        "analyst",
        "/admin/projects/project/add/",
        others=PROJECTS,
    ),
    AdminPage(
        "project-change",
        "analyst",
        lambda: f"/admin/projects/project/{demo_project().pk}/change/",
        others=PROJECTS,
    ),
    AdminPage(
        "project-change-draft",
        "reviewer",
        lambda: f"/admin/projects/project/{draft_of(DEMO_SLUG).pk}/change/",
        others=PROJECTS,
    ),
    AdminPage(
        "project-ratings",
        "analyst",
        lambda: f"/admin/projects/project/{demo_project().pk}/ratings/",
        others=PROJECTS,
    ),
    AdminPage(
        "project-import",
        "analyst",
        "/admin/projects/project/import/",
        others=PROJECTS,
    ),
    AdminPage(
        "project-publish-preview",
        "reviewer",
        lambda: f"/admin/projects/project/{draft_of(DEMO_SLUG).pk}/publish/",
        others=PROJECTS,
    ),
    AdminPage("operator-list", "analyst", "/admin/projects/operator/"),
    AdminPage(
        "operator-change",
        "analyst",
        lambda: f"/admin/projects/operator/{demo_project().operator_id}/change/",
    ),
    AdminPage(
        "methodology-list",
        "administrator",
        "/admin/projects/methodology/",
        others=METHOD,
    ),
    AdminPage(
        "methodology-change",
        "administrator",
        lambda: f"/admin/projects/methodology/{Methodology.objects.order_by('pk').first().pk}/change/",
        others=METHOD,
    ),
    AdminPage("changes", "reviewer", "/admin/projects/change/"),
    AdminPage("api-keys", "administrator", "/admin/projects/apikey/"),
    AdminPage(
        "webhook-list",
        "administrator",
        lambda: webhook_subscription() and "/admin/projects/webhooksubscription/",
    ),
    AdminPage(
        "webhook-change",
        "administrator",
        lambda: f"/admin/projects/webhooksubscription/{webhook_subscription().pk}/change/",
    ),
    AdminPage(
        "webhook-created",
        "administrator",
        lambda: webhook_subscription() and "/admin/projects/webhooksubscription/add/",
        then=create_a_subscription,
    ),
    AdminPage(
        "webhook-delivery",
        "administrator",
        lambda: f"/admin/projects/webhookdelivery/{webhook_subscription().deliveries.get().pk}/change/",
    ),
    AdminPage("two-factor-setup", "reviewer", "/admin/two-factor/", second_factor=False),
    AdminPage("two-factor-manage", "reviewer", "/admin/two-factor/"),
    AdminPage("two-factor-recovery-codes", "reviewer", "/admin/two-factor/", then=renew_recovery_codes),
]

CASES = [
    pytest.param(
        admin_page_case,
        lang,
        id=f"{admin_page_case.name}-{lang}",
        marks=[pytest.mark.xfail(reason=admin_page_case.xfail[lang], strict=False)]
        if lang in admin_page_case.xfail
        else [],
    )
    for admin_page_case in PAGES
    for lang in LANGUAGES
]


@pytest.mark.parametrize(("case", "lang"), CASES)
def test_admin_page_is_axe_clean_fits_1366_and_logs_no_error(admin_page, demo_site, case, lang):
    user = role_user(case.role) if case.role else None
    page = admin_page(user, lang, second_factor=case.second_factor)
    response = page.goto(case.url())
    assert response.status == 200, f"{case.name}: HTTP {response.status} at {page.url}"
    if case.then is not None:
        case.then(page)
    page.wait_for_load_state("networkidle")
    shot(page, case.name)
    assert page.locator("html").get_attribute("lang") == lang

    problems = {
        "axe": axe_check(page),
        "sideways": overflow(page) if not admin_support.fits(page) else [],
        "console": page.problems.console_errors,
        "other hosts": page.problems.other_hosts,
        "failed requests": page.problems.failed_requests,
    }
    found = {kind: items for kind, items in problems.items() if items}
    owner = f" (owned by {case.others})" if case.others else ""
    assert not found, f"{case.name} in {lang}{owner}: {found}"


def test_the_second_factor_pages_are_reached_as_a_person_would(admin_page, demo_site):
    """The setup page is where a reviewer without a second factor lands, whatever admin page
    they asked for; with one, the login form asks for its code and lets them in."""
    reviewer = role_user("reviewer", password=admin_support.PASSWORD)
    page = admin_page(reviewer, "en", second_factor=False)
    page.goto("/admin/projects/project/")
    assert page.url.endswith("/admin/two-factor/")

    page = admin_page(None, "en")
    admin_support.log_in_with_code(page, reviewer)
    assert reviewer.get_username() in page.locator("#user-tools").inner_text().lower()


def test_the_click_counter_counts_a_persons_clicks_across_page_loads(admin_page, demo_site):
    """The harness's counter: mouse clicks and drop-down choices count, wherever the page goes next;
    the keyboard does not."""
    page = admin_page(role_user("analyst"), "en")
    page.goto("/admin/")
    admin_support.reset_clicks(page)
    page.locator("#content-main a[href$='/admin/projects/operator/']").first.click()  # 1, a new page
    page.wait_for_url("**/admin/projects/operator/")
    page.locator("#language-select").select_option("ja")  # 2: a choice from the list
    page.locator("#language-select").press("ArrowUp")  # the keyboard: not a click
    page.locator("#searchbar").click()  # 3
    assert admin_support.clicks(page) == 3
    assert [url.split(page.url.split("/admin/")[0])[-1] for url in page.loads] == [
        "/admin/",
        "/admin/projects/operator/",
    ]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_project_list_table_fits_its_box_at_1366(admin_page, demo_site, lang):
    """Not only the page: the results table itself shows every column without scrolling inside
    its box (the admin wraps it in a scrollable div), in both languages, as a reviewer sees it."""
    page = admin_page(role_user("reviewer"), lang)
    page.goto("/admin/projects/project/")
    widths = page.evaluate(
        "() => { const box = document.querySelector('#changelist .results');"
        " return [box.scrollWidth, box.clientWidth]; }"
    )
    assert widths[0] <= widths[1], f"the table needs {widths[0]} px in a {widths[1]} px box"
