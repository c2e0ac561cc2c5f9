"""The review workflow in the admin: the status line first on a project's page, submit and return
with comments, the queues on the admin index, the list's filters and columns."""

import pytest
from django.utils import formats, timezone

from projects import actors
from projects.models import Project, ReviewEvent, ReviewState
from tests.support.actors import member, publish_as_reviewer

from .pages import LIST_URL, change_url, imported, parse, publish_via, ratings

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst():
    return member("sato", "analyst")


@pytest.fixture
def reviewer():
    return member("suzuki", "reviewer")


@pytest.fixture
def project():
    return imported("alpha", name="Alpha Lunar Ice", assessments=ratings())


def submit_in_the_admin(client, user, project, comment="Please review."):
    client.force_login(user)
    return client.post(f"/admin/projects/project/{project.pk}/submit/", {"comment": comment}, follow=True)


def status_line(response) -> str:
    return parse(response.content).find(class_="project-status-line").clean_text


def test_the_status_block_is_the_first_thing_in_the_content(client, analyst, project):
    client.force_login(analyst)
    content = parse(client.get(change_url(project)).content).find(id="content")
    first = next(child for child in content.iter() if "project-status" in child.classes)
    form = content.find("form", id="project_form")
    order = [element for element in content.iter() if element is first or element is form]
    assert order[0] is first
    assert "Never published" in status_line(client.get(change_url(project)))


def test_an_analyst_submits_and_a_reviewer_returns_with_comments(client, analyst, reviewer, project):
    page = submit_in_the_admin(client, analyst, project, "First full rating.")
    assert "Submitted for review." in page.content.decode()
    assert "awaiting review" in status_line(page)
    client.force_login(reviewer)
    page = client.get(change_url(project))
    assert parse(page.content).find("form", action=f"/admin/projects/project/{project.pk}/return/")
    page = client.post(
        f"/admin/projects/project/{project.pk}/return/", {"comment": "S9.1: cite the source."}, follow=True
    )
    assert "returned to the analyst" in status_line(page)
    history = parse(page.content).find(class_="project-review-history").clean_text
    assert "S9.1: cite the source." in history and "suzuki" in history and "First full rating." in history
    event = ReviewEvent.objects.filter(kind="returned").get()
    assert (event.actor, event.channel) == (reviewer, actors.Channel.ADMIN)


def test_a_refused_step_says_why_and_changes_nothing(client, analyst, reviewer, project):
    submit_in_the_admin(client, analyst, project)
    client.force_login(reviewer)
    page = client.post(f"/admin/projects/project/{project.pk}/return/", {"comment": ""}, follow=True)
    assert "a comment is required" in page.content.decode()
    assert Project.objects.get(pk=project.pk).review_state == ReviewState.SUBMITTED


def test_an_analyst_cannot_return(client, analyst, project):
    submit_in_the_admin(client, analyst, project)
    page = client.post(f"/admin/projects/project/{project.pk}/return/", {"comment": "No."}, follow=True)
    assert "for reviewers" in page.content.decode()
    assert Project.objects.get(pk=project.pk).review_state == ReviewState.SUBMITTED


def test_steps_are_posted_never_fetched(client, analyst, project):
    client.force_login(analyst)
    assert client.get(f"/admin/projects/project/{project.pk}/submit/").status_code == 405


def test_the_index_shows_each_their_queue(client, analyst, reviewer, project):
    other = imported("beta", name="Beta", assessments=ratings())
    submit_in_the_admin(client, analyst, project)
    submit_in_the_admin(client, analyst, other)
    client.force_login(reviewer)
    queues = parse(client.get("/admin/").content).find(class_="work-queues").clean_text
    assert "Awaiting review: 2" in queues
    client.post(f"/admin/projects/project/{project.pk}/return/", {"comment": "Sources, please."})
    client.force_login(analyst)
    queues = parse(client.get("/admin/").content).find(class_="work-queues").clean_text
    assert "Returned to you: 1" in queues and "Awaiting review" not in queues


def test_the_list_filters_by_review_state_and_unpublished_changes(client, analyst, reviewer, project):
    other = imported("beta", name="Beta", assessments=ratings())
    publish_as_reviewer(project=other, note="Published.")
    submit_in_the_admin(client, analyst, project)

    def names(query):
        table = parse(client.get(LIST_URL + query).content).find("table", id="result_list")
        return sorted(th.clean_text for th in table.find_all("th", class_="field-name"))

    assert names("?review=submitted") == ["Alpha Lunar Ice"]
    assert names("?unpublished=yes") == ["Alpha Lunar Ice"]
    assert names("?unpublished=no") == ["Beta"]


def test_the_list_shows_published_and_draft_apart(client, analyst, project):
    publish_as_reviewer(project=project, note="Published.")
    with actors.acting(analyst, actors.Channel.ADMIN):
        from projects.interchange.importer import projects_import
        from tests.conftest import interchange, project_record

        projects_import(interchange(project_record("alpha", name="Alpha Lunar Ice", assessments=ratings(4))))
    client.force_login(analyst)
    row = parse(client.get(LIST_URL).content).find("table", id="result_list").find("tbody").find("tr")
    published = row.find(class_="field-published_card").clean_text
    draft = row.find(class_="field-draft_card").clean_text
    assert published != draft and published.split()[1] != draft.split()[1]
    assert row.find(class_="field-standing").clean_text == "Published · unpublished changes"


def test_score_columns_sort_best_first_on_the_first_click(client, analyst):
    imported("low", name="Low", assessments=ratings(1))
    imported("high", name="High", assessments=ratings(4))
    client.force_login(analyst)
    page = parse(client.get(LIST_URL).content)
    header = page.find("th", class_="column-draft_card")
    link = header.find("a").attrs["href"]
    table = parse(client.get(LIST_URL + link).content).find("table", id="result_list")
    assert [th.clean_text for th in table.find_all("th", class_="field-name")] == ["High", "Low"]


def test_a_published_project_links_to_its_public_page(client, analyst, project):
    client.force_login(analyst)
    assert "View on site" not in status_line(client.get(change_url(project)))
    publish_as_reviewer(project=project, note="Published.")
    page = parse(client.get(change_url(project)).content)
    link = page.find(class_="project-status-line").find("a")
    assert link.attrs["href"] == "/en/projects/alpha/"
    everywhere = [a for a in page.find_all("a") if a.attrs.get("href") == "/en/projects/alpha/"]
    assert everywhere == [link]  # one "View on site", not a second button in the object tools
    assert client.get(link.attrs["href"]).status_code == 200


def test_submit_needs_changes_since_the_publication(client, analyst, project):
    publish_as_reviewer(project=project, note="Published.")
    page = submit_in_the_admin(client, analyst, Project.objects.get(pk=project.pk))
    assert "nothing changed" in page.content.decode()
    assert ReviewEvent.objects.count() == 0


def evidence_edited(analyst, evidence: str):
    """The analyst rewrites alpha's evidence texts: the ratings, so the score card, stay the same."""
    from projects.interchange.importer import projects_import
    from tests.conftest import interchange, project_record

    with actors.acting(analyst, actors.Channel.ADMIN):
        record = project_record("alpha", name="Alpha Lunar Ice", assessments=ratings())
        for item in record["assessments"]:
            item["evidence"] = evidence
        projects_import(interchange(record))


def test_the_status_line_says_when_and_by_whom_and_counts_the_edits_since(client, analyst, project):
    publication = publish_as_reviewer(project=project, note="Published.")
    client.force_login(analyst)
    when = formats.date_format(timezone.localtime(publication.published_at), "DATE_FORMAT")
    line = status_line(client.get(change_url(project)))
    assert line.startswith(f"Published {when} by test-reviewer · 0 unpublished changes")
    evidence_edited(analyst, "Rewritten evidence.")
    line = status_line(client.get(change_url(project)))
    assert "· 25 unpublished changes" in line


def test_an_evidence_only_edit_counts_as_unpublished_in_the_list(client, analyst, project):
    publish_as_reviewer(project=project, note="Published.")
    client.force_login(analyst)

    def alpha_row():
        return parse(client.get(LIST_URL).content).find("table", id="result_list").find("tbody").find("tr")

    assert alpha_row().find(class_="field-standing").clean_text == "Published"
    evidence_edited(analyst, "Rewritten evidence.")
    row = alpha_row()
    # Same ratings, same card: the edit still waits for a reviewer, and the list says so.
    assert (
        row.find(class_="field-published_card").clean_text == row.find(class_="field-draft_card").clean_text
    )
    assert row.find(class_="field-standing").clean_text == "Published · unpublished changes"
    table = parse(client.get(LIST_URL + "?unpublished=yes").content).find("table", id="result_list")
    assert [th.clean_text for th in table.find_all("th", class_="field-name")] == ["Alpha Lunar Ice"]


def test_nothing_to_submit_after_a_publication_hides_the_form(client, analyst, project):
    publish_as_reviewer(project=project, note="Published.")
    client.force_login(analyst)
    assert not parse(client.get(change_url(project)).content).find_all(id="submit-comment")
    evidence_edited(analyst, "Rewritten evidence.")
    assert parse(client.get(change_url(project)).content).find_all(id="submit-comment")


def test_a_refused_comment_comes_back_in_its_box(client, analyst, project):
    too_long = "A careful note. " * 200  # 3200 characters, over the 2000 allowed
    page = submit_in_the_admin(client, analyst, project, too_long)
    assert "at most 2000 characters" in page.content.decode()
    box = parse(page.content).find("textarea", id="submit-comment")
    assert box.clean_text == too_long.strip()
    # Once: the next visit starts empty.
    assert (
        parse(client.get(change_url(project)).content).find("textarea", id="submit-comment").clean_text == ""
    )
    assert Project.objects.get(pk=project.pk).review_state == ReviewState.DRAFT


def test_returned_to_you_lists_exactly_your_returned_work(client, analyst, reviewer, project):
    colleague = member("kato", "analyst")
    other = imported("beta", name="Beta", assessments=ratings())
    submit_in_the_admin(client, analyst, project)
    submit_in_the_admin(client, colleague, other)
    client.force_login(reviewer)
    for returned in (project, other):
        client.post(f"/admin/projects/project/{returned.pk}/return/", {"comment": "Sources, please."})
    client.force_login(analyst)
    queue = parse(client.get("/admin/").content).find(class_="work-queues")
    link = next(a for a in queue.find_all("a") if "Returned to you" in a.clean_text)
    assert "Returned to you: 1" in link.clean_text
    table = parse(client.get(link.attrs["href"]).content).find("table", id="result_list")
    assert [th.clean_text for th in table.find_all("th", class_="field-name")] == ["Alpha Lunar Ice"]


def test_a_reviewer_reviews_and_publishes_from_the_status_block(client, analyst, reviewer, project):
    submit_in_the_admin(client, analyst, project, "Ready.")
    assert not parse(client.get(change_url(project)).content).find_all(class_="project-review-publish")
    client.force_login(reviewer)
    link = parse(client.get(change_url(project)).content).find(class_="project-review-publish").find("a")
    assert link.clean_text == "Review and publish…"
    page = publish_via(client, link.attrs["href"], {"note": "Reviewed."}, follow=True)
    assert "1 project published." in page.content.decode()
    published = Project.objects.get(pk=project.pk)
    assert (published.state, published.review_state) == ("published", ReviewState.DRAFT)
    # Nothing left to review: neither the link nor the submit form until the next edit.
    status = parse(client.get(change_url(project)).content).find(class_="project-status")
    assert not status.find_all(class_="project-review-publish") and not status.find_all(id="submit-comment")


def test_a_reviewer_is_not_offered_to_return_their_own_submission(client, reviewer, project):
    submit_in_the_admin(client, reviewer, project, "Submitted by a reviewer.")
    page = parse(client.get(change_url(project)).content)
    assert not page.find_all("form", action=f"/admin/projects/project/{project.pk}/return/")
    second = member("tanaka", "reviewer")
    client.force_login(second)
    page = parse(client.get(change_url(project)).content)
    assert page.find("form", action=f"/admin/projects/project/{project.pk}/return/")


def test_every_comment_of_every_round_stays_on_the_page(client, analyst, reviewer, project):
    for round_ in range(1, 7):  # six rounds: twelve steps
        submit_in_the_admin(client, analyst, project, f"Round {round_}: ready.")
        client.force_login(reviewer)
        client.post(f"/admin/projects/project/{project.pk}/return/", {"comment": f"Round {round_}: sources."})
    client.force_login(analyst)
    history = parse(client.get(change_url(project)).content).find(class_="project-review-history")
    steps = [item.clean_text for item in history.find_all("li")]
    assert len(steps) == 12
    assert "Round 6: sources." in steps[0] and "Round 1: ready." in steps[-1]
