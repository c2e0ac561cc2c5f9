"""The review workflow in the service layer: submit with a comment, return with comments (a
reviewer other than the submitter), publication ends the round; every step attributed."""

import pytest

from projects import actors
from projects.interchange.importer import projects_import
from projects.models import Project, ReviewEvent, ReviewState
from projects.services.review import ReviewRefused, project_return, project_submit, returned_to
from tests.conftest import interchange, project_record, rated
from tests.support import actors as people
from tests.support.actors import (
    as_reviewer,
    publish_as_reviewer,
    reviewer_user,
    staff_user,
    withdraw_as_reviewer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    projects_import(interchange(project_record("alpha", name="Alpha", assessments=[rated("S9.1", 2)])))
    return Project.objects.get(slug="alpha")


def test_an_analyst_submits_with_a_comment_and_the_step_is_attributed(draft):
    event = project_submit(project=draft, comment="First full rating.")
    draft.refresh_from_db()
    assert draft.review_state == ReviewState.SUBMITTED
    assert (event.kind, event.comment, event.actor, event.actor_name, event.channel) == (
        ReviewEvent.Kind.SUBMITTED,
        "First full rating.",
        people.tester(),
        "tester",
        actors.Channel.SHELL,
    )


def test_submitting_twice_is_refused(draft):
    project_submit(project=draft)
    with pytest.raises(ReviewRefused, match="already awaiting review"):
        project_submit(project=draft)
    assert ReviewEvent.objects.count() == 1


def test_nothing_to_review_after_a_publication(draft):
    publish_as_reviewer(project=draft, note="Published.")
    with pytest.raises(ReviewRefused, match="nothing changed"):
        project_submit(project=Project.objects.get(pk=draft.pk))


def test_a_reviewer_returns_with_a_required_comment(draft):
    project_submit(project=draft)
    with as_reviewer(), pytest.raises(ReviewRefused, match="comment"):
        project_return(project=draft, comment="   ")
    with as_reviewer():
        event = project_return(project=draft, comment="S9.1 needs a source.")
    draft.refresh_from_db()
    assert draft.review_state == ReviewState.RETURNED
    assert (event.actor, event.comment) == (reviewer_user(), "S9.1 needs a source.")


def test_only_reviewers_return_and_never_their_own_submission(draft):
    project_submit(project=draft)
    with pytest.raises(ReviewRefused, match="for reviewers"):
        project_return(project=draft, comment="No.")  # tester is no reviewer
    # A reviewer who submitted may not return it: four eyes.
    own = staff_user("self-reviewer", publish=True)
    with actors.acting(own, actors.Channel.ADMIN):
        projects_import(interchange(project_record("gamma", name="Gamma", assessments=[rated("S7.1", 1)])))
        gamma = Project.objects.get(slug="gamma")
        project_submit(project=gamma)
        with pytest.raises(ReviewRefused, match="another reviewer"):
            project_return(project=gamma, comment="Mine.")
    assert Project.objects.get(slug="gamma").review_state == ReviewState.SUBMITTED


def test_returning_what_is_not_submitted_is_refused(draft):
    with as_reviewer(), pytest.raises(ReviewRefused, match="not awaiting review"):
        project_return(project=draft, comment="Why?")


def test_the_analyst_fixes_and_resubmits_and_a_publication_ends_the_round(draft):
    project_submit(project=draft, comment="Ready.")
    with as_reviewer():
        project_return(project=draft, comment="Fix S9.1.")
    project_submit(project=Project.objects.get(pk=draft.pk), comment="Fixed.")
    assert Project.objects.get(pk=draft.pk).review_state == ReviewState.SUBMITTED
    publish_as_reviewer(project=Project.objects.get(pk=draft.pk), note="Reviewed.")
    assert Project.objects.get(pk=draft.pk).review_state == ReviewState.DRAFT
    kinds = list(ReviewEvent.objects.filter(project=draft).order_by("id").values_list("kind", "comment"))
    assert kinds == [("submitted", "Ready."), ("returned", "Fix S9.1."), ("submitted", "Fixed.")]


def test_a_stale_instance_saved_after_a_submission_does_not_undo_it(draft):
    stale = Project.objects.get(pk=draft.pk)
    project_submit(project=draft)
    stale.summary = "A new summary."
    stale.save()
    assert Project.objects.get(pk=draft.pk).review_state == ReviewState.SUBMITTED


def test_a_step_needs_an_actor(draft):
    with actors.nobody(), pytest.raises(actors.NoActor):
        project_submit(project=draft)
    assert Project.objects.get(pk=draft.pk).review_state == ReviewState.DRAFT


def test_comments_are_held_to_the_text_rules(draft):
    with pytest.raises(ReviewRefused, match="comment"):
        project_submit(project=draft, comment="x" * 2001)
    assert not ReviewEvent.objects.exists()


def test_a_withdrawal_ends_the_round_too(draft):
    publish_as_reviewer(project=draft, note="Published.")
    projects_import(interchange(project_record("alpha", name="Alpha", assessments=[rated("S9.1", 3)])))
    project = Project.objects.get(pk=draft.pk)
    project_submit(project=project, comment="S9.1 raised.")
    withdraw_as_reviewer(project=project, note="Withdrawn for a check.")
    assert project.review_state == ReviewState.DRAFT  # the caller's instance too
    assert Project.objects.get(pk=draft.pk).review_state == ReviewState.DRAFT


def test_returned_work_belongs_to_whoever_submitted_it_last(draft):
    sato, kato = staff_user("sato"), staff_user("kato")
    with actors.acting(sato, actors.Channel.ADMIN):
        project_submit(project=draft, comment="Ready.")
    with as_reviewer():
        project_return(project=draft, comment="Fix S9.1.")
    assert list(returned_to(sato)) == [draft] and not returned_to(kato).exists()
    with actors.acting(kato, actors.Channel.ADMIN):
        project_submit(project=draft, comment="Fixed it for Sato.")
    with as_reviewer():
        project_return(project=draft, comment="Still no source.")
    assert not returned_to(sato).exists() and list(returned_to(kato)) == [draft]
