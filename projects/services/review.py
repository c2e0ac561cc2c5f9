"""The review workflow: an analyst submits a project's draft for review with a comment; a
reviewer returns it with comments, or publishes it (which ends the round: services.publication
sets the state back). One place for every channel — admin, shell, tasks.

The workflow is the reviewers' queue, not a gate: publishing stays open from any state, because
who may publish is already decided by the four-eyes rule from provenance (a reviewer who changed
nothing since the last review). A reviewer returns only what someone else submitted.

The steps are kept as ReviewEvents (author, name, channel, time, comment), not in the editorial
log (models.changes): they change nothing of the record, and that log's kinds are what four eyes
and "unpublished changes" read.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from projects import actors
from projects.models import Project, ReviewEvent, ReviewState
from projects.services.publication import REVIEWER_PERMISSION, draft_changes


class ReviewRefused(Exception):
    """This step of the workflow is not open to this person now; the message says why."""


def _clean_comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ReviewRefused(_("comment: say what must change; a comment is required."))
    field = ReviewEvent._meta.get_field("comment")
    try:
        field.run_validators(comment)
    except ValidationError as invalid:
        raise ReviewRefused(_("comment: %s") % " ".join(invalid.messages)) from None
    return comment


def _step(project: Project, actor: actors.Actor, kind: str, comment: str, state: str) -> ReviewEvent:
    Project.objects.filter(pk=project.pk).update(review_state=state)
    project.review_state = state
    return ReviewEvent.objects.create(
        project=project,
        kind=kind,
        comment=comment,
        actor=actor.user,
        actor_name=actor.user.get_username(),
        channel=actor.channel,
    )


def project_submit(*, project: Project, comment: str = "") -> ReviewEvent:
    """Submit the project's draft for review, as the stated actor, with an optional comment
    for the reviewer. Refused when nothing changed since the last publication, or when it is
    already awaiting review."""
    actor = actors.required("submission for review")
    comment = _clean_comment(comment, required=False)
    with transaction.atomic():
        # The row alone: PostgreSQL locks no nullable side of an outer join.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.review_state == ReviewState.SUBMITTED:
            raise ReviewRefused(_("%(name)s is already awaiting review.") % {"name": locked.name})
        if draft_changes(locked) is None:
            raise ReviewRefused(
                _("%(name)s: nothing changed since its last publication; there is nothing to review.")
                % {"name": locked.name}
            )
        return _step(project, actor, ReviewEvent.Kind.SUBMITTED, comment, ReviewState.SUBMITTED)


def project_return(*, project: Project, comment: str) -> ReviewEvent:
    """Return a submitted project to its analyst with the reviewer's comments (required). Only a
    reviewer, and not the person who submitted it (four eyes)."""
    actor = actors.required("return of a submission")
    if not actor.user.has_perm(REVIEWER_PERMISSION):
        raise ReviewRefused(_("Returning a submission is for reviewers."))
    comment = _clean_comment(comment, required=True)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.review_state != ReviewState.SUBMITTED:
            raise ReviewRefused(_("%(name)s is not awaiting review.") % {"name": locked.name})
        if last_submitter_id(locked) == actor.user.pk:
            raise ReviewRefused(
                _("%(name)s: you submitted it; another reviewer must review it.") % {"name": locked.name}
            )
        return _step(project, actor, ReviewEvent.Kind.RETURNED, comment, ReviewState.RETURNED)


def last_submitter_id(project: Project) -> int | None:
    """Who submitted the project last (the newest submission counts: a resubmission by
    someone else makes it theirs)."""
    return (
        ReviewEvent.objects.filter(project=project, kind=ReviewEvent.Kind.SUBMITTED)
        .values_list("actor_id", flat=True)
        .first()
    )


def returned_to(user, projects: QuerySet | None = None) -> QuerySet:
    """The returned projects whose last submission was ``user``'s: the analyst's own work sent
    back. One query, whatever the number of projects."""
    last_submitter = (
        ReviewEvent.objects.filter(project=OuterRef("pk"), kind=ReviewEvent.Kind.SUBMITTED)
        .order_by("-created_at", "-id")
        .values("actor_id")[:1]
    )
    projects = Project.objects.all() if projects is None else projects
    return (
        projects.filter(review_state=ReviewState.RETURNED)
        .alias(last_submitter=Subquery(last_submitter))
        .filter(last_submitter=user.pk)
    )
