"""The rating sheet's doors and guards: who may use it, the rule that removing a rating is a
change of it (service layer, every person who may change ratings), saves from an older sheet
refused with the input kept, and a page whose queries do not grow with the ratings."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects import actors
from projects.models import Assessment, Change, Project
from projects.selectors import criteria_of, methodology_current
from projects.services.ratings import (
    RatingEdit,
    RatingsOutdated,
    may_change_ratings,
    ratings_apply,
    ratings_digest,
)
from tests.support.actors import staff_user

from .pages import SheetPage, errors_in, imported, parse, ratings, sheet_url

pytestmark = pytest.mark.django_db


def person(name: str, *groups: str, **permissions):
    user = get_user_model().objects.create_user(name, password="pw-" + name, is_staff=True)
    for group in groups:
        user.groups.add(Group.objects.get(name=group))
    for codename in permissions.get("perms", ()):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def refusal(response) -> str:
    return parse(response.content).find(class_="sheet-refusal").clean_text


@pytest.fixture
def alpha(db) -> Project:
    return imported("alpha", name="Alpha Lunar Ice", assessments=ratings(grade="C"))


# --- who may use it ---------------------------------------------------------------------------


def test_analysts_reviewers_and_superusers_open_the_sheet(alpha, admin_client):
    assert admin_client.get(sheet_url(alpha)).status_code == 200
    for name, group in [("ana", "analyst"), ("rita", "reviewer")]:
        assert logged_in(person(name, group)).get(sheet_url(alpha)).status_code == 200


def test_staff_who_may_not_change_ratings_are_refused_and_strangers_sent_to_log_in(alpha, client):
    assert client.get(sheet_url(alpha)).status_code == 302
    assert "/admin/login/" in client.get(sheet_url(alpha)).url
    nobody = person("nobody")
    reader = person("reader", perms=["view_project", "view_assessment"])
    facts_only = person("facts", perms=["view_project", "change_project"])
    for user in (nobody, reader, facts_only):
        page = logged_in(user)
        assert page.get(sheet_url(alpha)).status_code == 403, user
        sheet = SheetPage.of(logged_in(person(f"{user.username}-ana", "analyst")).get(sheet_url(alpha)))
        sheet.clear("S7.1")
        assert page.post(sheet_url(alpha), sheet.post_data()).status_code == 403
    assert alpha.assessments.filter(criterion__code="S7.1").exists()


def test_an_unknown_project_goes_back_to_the_admin_with_a_message(admin_client):
    response = admin_client.get("/admin/projects/project/999999/ratings/", follow=True)
    assert response.redirect_chain and b"doesn\xe2\x80\x99t exist" in response.content


# --- removing a rating: a change of it, for whoever may change ratings --------------------------


def test_the_service_lets_whoever_may_change_ratings_remove_one_and_nobody_else(alpha):
    analyst, stranger = person("ana", "analyst"), person("stranger")
    assert not analyst.has_perm("projects.delete_assessment")  # and needs none
    assert may_change_ratings(analyst) and not may_change_ratings(stranger)
    methodology = methodology_current()
    e5 = criteria_of(methodology).get(code="E5")
    digest = ratings_digest(project_id=alpha.pk, methodology=methodology)

    with actors.acting(stranger, actors.Channel.ADMIN), pytest.raises(PermissionDenied):
        ratings_apply(
            project=alpha, methodology=methodology, edits=[RatingEdit(e5, None)], loaded_digest=digest,
            user=stranger,
        )  # fmt: skip
    assert alpha.assessments.filter(criterion=e5).exists()

    with actors.acting(analyst, actors.Channel.ADMIN):
        changed = ratings_apply(
            project=alpha, methodology=methodology, edits=[RatingEdit(e5, None)], loaded_digest=digest,
            user=analyst,
        )  # fmt: skip
    assert changed == ["E5"]
    assert not alpha.assessments.filter(criterion=e5).exists()
    assert Change.objects.filter(project=alpha, subject="E5", actor=analyst, new__isnull=True).count() == 1


def test_the_service_refuses_a_batch_from_an_older_reading_whole(alpha):
    analyst = person("ana", "analyst")
    methodology = methodology_current()
    criteria = {c.code: c for c in criteria_of(methodology)}
    digest = ratings_digest(project_id=alpha.pk, methodology=methodology)
    s91 = alpha.assessments.get(criterion__code="S9.1")
    s91.justification = "Someone else's evidence."
    s91.save()
    values = {**alpha.assessments.get(criterion__code="D2").rating(), "level": 4}

    with actors.acting(analyst, actors.Channel.ADMIN), pytest.raises(RatingsOutdated):
        ratings_apply(
            project=alpha, methodology=methodology, edits=[RatingEdit(criteria["D2"], values)],
            loaded_digest=digest, user=analyst,
        )  # fmt: skip
    assert alpha.assessments.get(criterion__code="D2").level == 2


# --- saves from an older sheet ------------------------------------------------------------------


def test_a_save_from_a_sheet_older_than_another_persons_rating_change_is_refused_naming_it(alpha):
    client = logged_in(person("ana", "analyst"))
    page = SheetPage.of(client.get(sheet_url(alpha)))
    with actors.acting(staff_user("bob"), actors.Channel.API):  # meanwhile, through the API
        rating = Assessment.objects.get(project=alpha, criterion__code="S9.1")
        rating.justification = "Bob's evidence."
        rating.save()

    page.rate("D2", 3, justification="Ana's evidence.", grade="C")
    response = client.post(sheet_url(alpha), page.post_data())

    assert response.status_code == 200
    message = refusal(response)
    assert "bob changed this project after you opened this page" in message
    assert "ratings (S9.1)" in message and "Nothing was saved" in message
    assert "Open the rating sheet again" in message
    assert Assessment.objects.get(project=alpha, criterion__code="S9.1").justification == "Bob's evidence."
    assert Assessment.objects.get(project=alpha, criterion__code="D2").level == 2
    again = SheetPage.of(response)  # Ana's input, kept to copy from
    assert again.rating("D2") == ["3"] and again.data["D2-justification"] == ["Ana's evidence."]
    # Opened again, the sheet shows Bob's evidence and saves Ana's change.
    fresh = SheetPage.of(client.get(sheet_url(alpha)))
    assert fresh.data["S9_1-justification"] == ["Bob's evidence."]
    fresh.rate("D2", 3, justification="Ana's evidence.", grade="C")
    assert client.post(sheet_url(alpha), fresh.post_data()).status_code == 302
    assert Assessment.objects.get(project=alpha, criterion__code="D2").level == 3


def test_a_change_of_the_projects_facts_meanwhile_does_not_block_the_ratings(alpha):
    client = logged_in(person("ana", "analyst"))
    page = SheetPage.of(client.get(sheet_url(alpha)))
    with actors.acting(staff_user("bob"), actors.Channel.API):
        project = Project.objects.get(pk=alpha.pk)
        project.summary = "Bob's summary."
        project.save()
    page.rate("D2", 3, grade="C")
    assert client.post(sheet_url(alpha), page.post_data()).status_code == 302
    assert Assessment.objects.get(project=alpha, criterion__code="D2").level == 3


def test_the_same_sheet_saved_twice_is_refused_the_second_time(alpha):
    client = logged_in(person("ana", "analyst"))
    page = SheetPage.of(client.get(sheet_url(alpha)))
    page.rate("S9.1", 4, grade="C")
    assert client.post(sheet_url(alpha), page.post_data()).status_code == 302

    page.rate("S9.2", 0, grade="C")  # the back button, another tab: the page predates its own save
    response = client.post(sheet_url(alpha), page.post_data())
    assert response.status_code == 200
    assert "ana changed this project" in refusal(response)
    assert Assessment.objects.get(project=alpha, criterion__code="S9.2").level == 2


def test_an_error_page_still_guards_the_sheet_as_first_loaded(alpha):
    client = logged_in(person("ana", "analyst"))
    page = SheetPage.of(client.get(sheet_url(alpha)))
    page.rate("D2", 3, justification="", grade="C")
    shown = SheetPage.of(client.post(sheet_url(alpha), page.post_data()))  # an error: shown again
    with actors.acting(staff_user("bob"), actors.Channel.API):
        rating = Assessment.objects.get(project=alpha, criterion__code="S9.1")
        rating.level = 4
        rating.save()
    shown.rate("D2", 3, justification="Fixed.", grade="C")
    response = client.post(sheet_url(alpha), shown.post_data())
    assert response.status_code == 200 and "bob changed this project" in refusal(response)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_saves_of_one_sheet_at_once_one_passes_the_other_is_refused():
    alpha = imported("alpha", name="Alpha Lunar Ice", assessments=ratings(grade="C"))
    clients = [logged_in(person("ana", "analyst")), logged_in(person("ben", "analyst"))]
    pages = [SheetPage.of(client.get(sheet_url(alpha))) for client in clients]
    for page, evidence in zip(pages, ["Ana's evidence.", "Ben's evidence."], strict=True):
        page.rate("E1", 1, justification=evidence, grade="C")

    def save(number):
        try:
            if concurrent:
                start.wait()
            return clients[number].post(sheet_url(alpha), pages[number].post_data())
        finally:
            if concurrent:
                connections.close_all()

    # On PostgreSQL both saves really run at once (the project's row lock orders them); SQLite's
    # in-memory test database is one connection's, so there one comes after the other.
    concurrent = connection.vendor == "postgresql"
    start = threading.Barrier(2)
    if concurrent:
        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(save, range(2)))
    else:
        responses = [save(0), save(1)]

    assert sorted(response.status_code for response in responses) == [200, 302]
    winner = ["Ana's evidence.", "Ben's evidence."][[r.status_code for r in responses].index(302)]
    assert Assessment.objects.get(project=alpha, criterion__code="E1").justification == winner
    loser = next(response for response in responses if response.status_code == 200)
    assert "changed this project after you opened this page" in refusal(loser)


# --- the page -----------------------------------------------------------------------------------


def test_save_and_continue_stays_on_the_sheet_and_says_what_was_saved(alpha, admin_client):
    page = SheetPage.of(admin_client.get(sheet_url(alpha)))
    page.rate("S7.5", 4, grade="C")
    page.clear("E4")
    response = admin_client.post(sheet_url(alpha), page.post_data("_continue"), follow=True)
    assert response.redirect_chain[-1][0] == sheet_url(alpha)
    assert "2 ratings of “Alpha Lunar Ice” saved: S7.5, E4." in response.content.decode()
    assert "24 of 25 criteria rated" in parse(response.content).find(class_="sheet-intro").clean_text


def test_saving_nothing_says_so(alpha, admin_client):
    page = SheetPage.of(admin_client.get(sheet_url(alpha)))
    response = admin_client.post(sheet_url(alpha), page.post_data(), follow=True)
    assert "No rating changed." in response.content.decode()


def test_a_rating_that_breaks_a_newer_rule_does_not_block_saving_other_criteria(alpha, admin_client):
    """Only changed criteria are checked: an old rating that a newer rule would refuse stays as
    it is until someone edits it, and the rest of the sheet saves."""
    Assessment.objects.filter(project=alpha, criterion__code="S7.2").update(justification="")
    page = SheetPage.of(admin_client.get(sheet_url(alpha)))
    page.rate("S7.3", 4, grade="C")
    response = admin_client.post(sheet_url(alpha), page.post_data())
    assert response.status_code == 302, errors_in(parse(response.content))
    assert alpha.assessments.get(criterion__code="S7.3").level == 4


def test_the_sheet_reads_the_same_number_of_queries_however_many_ratings(admin_client):
    empty = imported("empty")
    full = imported("full", assessments=ratings(grade="C"))
    admin_client.get(sheet_url(empty))  # the session's first reads, once
    counts = []
    for project in (empty, full):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(sheet_url(project)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
