"""The review workflow in the admin: the status line at the top of a project's page, the
"Submit for review" and "Return to the analyst" forms, the comments, and the queues on the admin
index. The rules are services.review's; these views only ask and report."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from projects.models import Change, Project, ReviewEvent, ReviewState
from projects.models.changes import EDITS, REVIEWS
from projects.models.reviews import MAX_COMMENT
from projects.services.publication import REVIEWER_PERMISSION
from projects.services.review import (
    ReviewRefused,
    last_submitter_id,
    project_return,
    project_submit,
    returned_to,
)


def _kept_key(project_id: int, step: str) -> str:
    return f"review-comment-{project_id}-{step}"


def review_urls(model_admin) -> list:
    site = model_admin.admin_site
    return [
        path(
            "<int:object_id>/submit/",
            site.admin_view(lambda request, object_id: _step_view(model_admin, request, object_id, "submit")),
            name="projects_project_submit",
        ),
        path(
            "<int:object_id>/return/",
            site.admin_view(lambda request, object_id: _step_view(model_admin, request, object_id, "return")),
            name="projects_project_return",
        ),
    ]


def _step_view(model_admin, request, object_id, step):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    project = Project.objects.filter(pk=object_id).first()
    if project is None:
        raise Http404
    if not model_admin.has_change_permission(request, project):
        raise PermissionDenied
    comment = request.POST.get("comment", "")
    try:
        if step == "submit":
            project_submit(project=project, comment=comment)
            model_admin.message_user(request, _("Submitted for review."), messages.SUCCESS)
        else:
            project_return(project=project, comment=comment)
            returned = _("Returned to the analyst with your comments.")
            model_admin.message_user(request, returned, messages.SUCCESS)
    except ReviewRefused as refused:
        model_admin.message_user(request, str(refused), messages.ERROR)
        request.session[_kept_key(project.pk, step)] = comment  # shown again, not lost
    return HttpResponseRedirect(reverse("admin:projects_project_change", args=[project.pk]))


def unpublished_changes(project: Project) -> int:
    """How many edits (facts, ratings) were made since the last publication or withdrawal."""
    last_review = (
        Change.objects.filter(project=project, kind__in=REVIEWS).order_by("-id").values("id").first()
    )
    edits = Change.objects.filter(project=project, kind__in=EDITS)
    if last_review is not None:
        edits = edits.filter(id__gt=last_review["id"])
    return edits.count()


def status_context(request, project: Project) -> dict:
    """What the top of a project's admin page says and offers."""
    publication = project.publication if project.publication_id else None
    is_reviewer = request.user.has_perm(REVIEWER_PERMISSION)
    state = project.review_state
    unpublished = unpublished_changes(project)
    # Nothing edited since a publication: nothing to submit (services.review would refuse).
    something_to_review = unpublished > 0 or not project.is_published
    return {
        "publication": publication,
        "is_published": project.is_published,
        "unpublished": unpublished,
        "review_state": state,
        "review_state_label": ReviewState(state).label if state != ReviewState.DRAFT else "",
        # Every step, newest first: the comments are the review's record (one query; a project
        # sees a few rounds a year).
        "events": list(ReviewEvent.objects.filter(project=project)),
        "can_submit": state != ReviewState.SUBMITTED
        and something_to_review
        and request.user.has_perm("projects.change_project"),
        # Not to the reviewer who submitted it: services.review would refuse (four eyes).
        "can_return": state == ReviewState.SUBMITTED
        and is_reviewer
        and last_submitter_id(project) != request.user.pk,
        # The publish page previews the diff and says when four eyes refuse this reviewer.
        "can_publish": is_reviewer and something_to_review,
        "max_comment": MAX_COMMENT,
        # A refused step's comment, back in its box once (see _step_view).
        "submit_comment": request.session.pop(_kept_key(project.pk, "submit"), ""),
        "return_comment": request.session.pop(_kept_key(project.pk, "return"), ""),
        "public_url": public_url(project),
    }


def public_url(project: Project) -> str | None:
    """The project's public page, at its published address (the admin's instance carries the
    draft's facts, a pending new slug included), or None while it is not published."""
    if not project.is_published:
        return None
    slug = Project.objects.filter(pk=project.pk).values_list("slug", flat=True).first()
    return reverse("web:project", kwargs={"slug": slug}) if slug else None


def queues(request) -> list[dict]:
    """The admin index's work lists: for a reviewer, what awaits review; for whoever edits
    projects, what was returned to them (their own submissions sent back). Each links to the
    project list filtered to exactly what it counts."""
    rows = []
    changelist = reverse("admin:projects_project_changelist")
    if request.user.has_perm(REVIEWER_PERMISSION):
        count = Project.objects.filter(review_state=ReviewState.SUBMITTED).count()
        url = f"{changelist}?{ReviewFilter.parameter_name}={ReviewFilter.AWAITING}"
        rows.append({"label": _("Awaiting review"), "count": count, "url": url})
    if request.user.has_perm("projects.change_project"):
        count = returned_to(request.user).count()
        url = f"{changelist}?{ReviewFilter.parameter_name}={ReviewFilter.RETURNED_TO_ME}"
        rows.append({"label": _("Returned to you"), "count": count, "url": url})
    return rows


class ReviewFilter(admin.SimpleListFilter):
    """Where the review round stands: awaiting review, returned, returned to me."""

    title = _("review")
    parameter_name = "review"
    AWAITING, RETURNED, RETURNED_TO_ME = "submitted", "returned", "mine"

    def lookups(self, request, model_admin):
        return [
            (self.AWAITING, _("Awaiting review")),
            (self.RETURNED, _("Returned")),
            (self.RETURNED_TO_ME, _("Returned to me")),
        ]

    def queryset(self, request, queryset):
        if self.value() == self.AWAITING:
            return queryset.filter(review_state=ReviewState.SUBMITTED)
        if self.value() == self.RETURNED:
            return queryset.filter(review_state=ReviewState.RETURNED)
        if self.value() == self.RETURNED_TO_ME:
            return returned_to(request.user, queryset)
        return queryset


# --- the project list: published and draft apart, and where each project stands --------------


def unpublished_edits() -> Exists:
    """True for a project edited (facts, ratings) since its last publication or withdrawal:
    the same rule as the status line's count and four eyes (models.changes), as one condition
    the database answers per row from the (project, id) index of the log."""
    last_review = (
        Change.objects.filter(project=OuterRef(OuterRef("pk")), kind__in=REVIEWS)
        .order_by("-id")
        .values("id")[:1]
    )
    return Exists(
        Change.objects.filter(
            project=OuterRef("pk"), kind__in=EDITS, id__gt=Coalesce(Subquery(last_review), Value(0))
        )
    )


def with_standing(projects: QuerySet) -> QuerySet:
    """The project list's rows, each knowing whether it has unpublished changes (no query per row)."""
    return projects.annotate(has_unpublished=unpublished_edits())


def has_unpublished_changes(project: Project) -> bool:
    if hasattr(project, "has_unpublished"):
        return project.has_unpublished
    return unpublished_changes(project) > 0


@admin.display(description=pgettext_lazy("project list", "standing"), ordering="review_state")
def standing(project: Project) -> str:
    if project.review_state == ReviewState.SUBMITTED:
        return _("Awaiting review")
    if project.review_state == ReviewState.RETURNED:
        return _("Returned")
    if project.is_published:
        if has_unpublished_changes(project):
            return _("Published · unpublished changes")
        return _("Published")
    if project.publication_id is not None:
        return _("Withdrawn")
    return _("Draft")


def _card_text(card) -> str:
    if card is None:
        return "—"
    if card.net_score is None:
        return card.get_status_display()
    return f"{card.grade or '—'} {card.net_score:.1f}"


@admin.display(
    description=pgettext_lazy("project list", "published"),
    ordering=F("published_net").desc(nulls_last=True),  # best first on the first click
)
def published_card(project: Project) -> str:
    return _card_text(project.published_score) if project.is_published else "—"


@admin.display(
    description=pgettext_lazy("project list", "draft"),
    ordering=F("current_score__net_score").desc(nulls_last=True),
)
def draft_card(project: Project) -> str:
    return _card_text(project.current_score)


class UnpublishedChangesFilter(admin.SimpleListFilter):
    title = _("unpublished changes")
    parameter_name = "unpublished"

    def lookups(self, request, model_admin):
        return [("yes", _("Has unpublished changes")), ("no", _("Public version is current"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(unpublished_edits())
        if self.value() == "no":
            return queryset.exclude(unpublished_edits())
        return queryset
