"""A change form saved after someone else changed the project is refused, naming what changed,
with the analyst's input kept: no acknowledged write (through the API, another admin page or a
shell) is silently undone by a page loaded before it (issue 11, finding 4)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.test import Client

from projects import actors
from projects.models import Assessment, Project
from tests.support.actors import staff_user

from .pages import ProjectPage, change_url, imported, parse, ratings

pytestmark = pytest.mark.django_db


def analyst(name: str):
    user = get_user_model().objects.create_user(name, password="pw-" + name, is_staff=True)
    user.groups.add(Group.objects.get(name="analyst"))
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def evidence(project: Project, code: str) -> str:
    return Assessment.objects.get(project=project, criterion__code=code).justification


def refusal(response) -> str:
    """The form-wide error the change page shows."""
    tree = parse(response.content)
    return " ".join(ul.clean_text for ul in tree.find_all("ul", class_="nonfield"))


@pytest.fixture
def alpha(db) -> Project:
    return imported("alpha", name="Alpha Lunar Ice", assessments=ratings())


def test_a_save_from_a_page_older_than_another_persons_changes_is_refused_naming_them(alpha):
    client = logged_in(analyst("ana"))
    page = ProjectPage.of(client.get(change_url(alpha)))
    # Meanwhile a partner changes the summary and one rating's evidence (acknowledged writes).
    with actors.acting(staff_user("bob"), actors.Channel.API):
        project = Project.objects.get(pk=alpha.pk)
        project.summary = "Bob's summary."
        project.save()
        rating = Assessment.objects.get(project=alpha, criterion__code="S9.1")
        rating.justification = "Bob's evidence."
        rating.save()

    page.data["name"] = ["Alpha Lunar Ice II"]
    page.data["summary"] = ["Ana's summary."]
    response = client.post(change_url(alpha), page.post_data())

    assert response.status_code == 200  # the page again, not a redirect: nothing saved
    message = refusal(response)
    assert "bob changed this project after you opened this page" in message
    assert "summary (English)" in message and "ratings (S9.1)" in message
    assert "Nothing was saved" in message
    # Bob's writes stand; Ana's are not made …
    stored = Project.objects.get(pk=alpha.pk)
    assert (stored.name, stored.summary) == ("Alpha Lunar Ice", "Bob's summary.")
    assert evidence(alpha, "S9.1") == "Bob's evidence."
    # … but kept on the page, for her to copy from. (Ratings are saved on the rating sheet,
    # which refuses a stale save the same way: tests/admin/test_rating_sheet.py.)
    again = ProjectPage.of(response)
    assert again.data["name"] == ["Alpha Lunar Ice II"]
    assert again.data["summary"] == ["Ana's summary."]


def test_a_save_from_a_fresh_page_is_accepted_and_a_second_save_of_that_page_refused(alpha):
    client = logged_in(analyst("ana"))
    page = ProjectPage.of(client.get(change_url(alpha)))
    page.data["name"] = ["Alpha Lunar Ice II"]
    response = client.post(change_url(alpha), page.post_data())
    assert response.status_code == 302, refusal(response)
    assert Project.objects.get(pk=alpha.pk).name == "Alpha Lunar Ice II"

    # The same page once more (a second tab, the back button): it predates the save it made.
    page.data["summary"] = ["Changed on the old page."]
    response = client.post(change_url(alpha), page.post_data())
    assert response.status_code == 200
    assert "ana changed this project" in refusal(response)
    assert Project.objects.get(pk=alpha.pk).summary == "A test project."


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_saves_of_one_page_at_once_one_passes_the_other_is_refused():
    alpha = imported("alpha", name="Alpha Lunar Ice", assessments=ratings())
    clients = [logged_in(analyst("ana")), logged_in(analyst("ben"))]
    pages = [ProjectPage.of(client.get(change_url(alpha))) for client in clients]
    for page, summary in zip(pages, ["Ana's summary.", "Ben's summary."], strict=True):
        page.data["summary"] = [summary]

    def save(number):
        try:
            if concurrent:
                start.wait()
            return clients[number].post(change_url(alpha), pages[number].post_data())
        finally:
            if concurrent:
                connections.close_all()

    # On PostgreSQL both saves really run at once (the row lock orders them); SQLite's in-memory
    # test database is one connection's, so there one comes after the other.
    concurrent = connection.vendor == "postgresql"
    start = threading.Barrier(2)
    if concurrent:
        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(save, range(2)))
    else:
        responses = [save(0), save(1)]

    assert sorted(response.status_code for response in responses) == [200, 302]
    winner = ["Ana's summary.", "Ben's summary."][[r.status_code for r in responses].index(302)]
    assert Project.objects.get(pk=alpha.pk).summary == winner
    loser = next(response for response in responses if response.status_code == 200)
    assert "changed this project after you opened this page" in refusal(loser)
