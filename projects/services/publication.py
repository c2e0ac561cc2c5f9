"""Publishing and withdrawing projects.

The public and partners see a project's last *publication*: its ratings and score card frozen
when a reviewer published them. Analysts' edits change the working ratings and the working card
(``Project.current_score``) only; they reach the public when a reviewer publishes again, with a
note saying why. Each publication records what moved since the one before (see ``changes_of``).

Four eyes, from provenance: the actor of a publication or withdrawal (``projects.actors``, whatever
the channel) must hold the reviewer's permission and must not be the actor of any change to the
project since its last review (the editorial log, ``projects.models.changes``). Administrators are
no exception, and an automatic republication under a new method is no review. What is published
is exactly what the reviewer previewed: the preview carries a digest of the draft, and a draft
that moved since is refused.
"""

import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from projects import actors
from projects.freshness import site_changed
from projects.models import Assessment, Methodology, Operator, Project, Publication, ScoreCard, SlugRedirect
from projects.models.changes import Change, editors_since_review, operator_editors_since_review, record
from projects.models.publications import MAX_NOTE
from projects.models.reviews import ReviewState
from projects.vocabularies import PublicationState

from .published import PUBLISHED_COLUMNS, published_columns
from .scoring import project_rescore
from .webhook_events import project_event


class PublicationRefused(Exception):
    """The project cannot be published by this user; the message says why."""


class NothingToPublish(PublicationRefused):
    """The working ratings and card are those already published."""


class PreviewOutdated(PublicationRefused):
    """The draft changed after the reviewer's preview: nothing was published."""


REVIEWER_PERMISSION = "projects.publish_project"
PUBLISHED_FIELDS = [column.removesuffix("_id") for column in PUBLISHED_COLUMNS]


def review_refusal(*, project: Project, user) -> str | None:
    """Why ``user`` may not publish or withdraw the project now (None when they may)."""
    if not user.has_perm(REVIEWER_PERMISSION):
        return _("%(name)s: publishing and withdrawing are for reviewers.") % {"name": project.name}
    if user.pk in editors_since_review(project.pk):
        return _("%(name)s: you changed it since its last review; another reviewer must do it.") % {
            "name": project.name
        }
    return None


def _check_reviewer(project: Project, actor: actors.Actor) -> None:
    refusal = review_refusal(project=project, user=actor.user)
    if refusal:
        raise PublicationRefused(refusal)


def _clean_note(project: Project, note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise PublicationRefused(_("%(name)s: note: say why; a note is required.") % {"name": project.name})
    if len(note) > MAX_NOTE:
        raise PublicationRefused(
            _("%(name)s: note: at most %(limit)d characters, not %(length)d.")
            % {"name": project.name, "limit": MAX_NOTE, "length": len(note)}
        )
    try:  # the field's own rules (visible text): what is stored is what a backup restores
        Publication._meta.get_field("note").run_validators(note)
    except ValidationError as invalid:
        raise PublicationRefused(
            _("%(name)s: note: %(problem)s") % {"name": project.name, "problem": " ".join(invalid.messages)}
        ) from None
    return note


def assessment_record(assessment) -> dict:
    """A rating as a publication freezes it (and as the interchange format writes it): only
    what is set, in a fixed key order."""
    item: dict = {"criterion": assessment.criterion.code}
    if assessment.not_applicable:
        item["not_applicable"] = True
    else:
        item["rating"] = assessment.level
    if assessment.justification:
        item["evidence"] = assessment.justification
    if assessment.justification_ja:
        item["evidence_ja"] = assessment.justification_ja
    if assessment.evidence_grade:
        item["evidence_grade"] = assessment.evidence_grade
    if assessment.source_url:
        item["source_url"] = assessment.source_url
    return item


def ratings_snapshot(*, project_id: int, methodology: Methodology) -> list[dict]:
    """The project's working ratings under ``methodology``, in method order and interchange form,
    each with the moment it was last changed."""
    assessments = (
        Assessment.objects.filter(project_id=project_id, criterion__methodology=methodology)
        .select_related("criterion")
        .order_by("criterion__position")
    )
    return [
        {**assessment_record(assessment), "updated_at": assessment.updated_at.isoformat()}
        for assessment in assessments
    ]


def scored_parts(items: list[dict]):
    """(code, level, evidence grade, not applicable) of each rating in interchange form."""
    for item in items:
        not_applicable = bool(item.get("not_applicable"))
        yield (
            item["criterion"],
            None if not_applicable else item.get("rating"),
            item.get("evidence_grade") or None,
            not_applicable,
        )


def ratings_key(parts) -> str:
    """A digest of what the engine reads of a set of ratings, in any order: equal keys, equal
    cards under any method with the same criteria."""
    text = repr(sorted(tuple(part) for part in parts))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _content(ratings: list[dict]) -> list[dict]:
    return [{k: v for k, v in item.items() if k != "updated_at"} for item in ratings]


def _rating(item: dict | None):
    """A rating as shown in a change line: the level, "n/a", or None when missing."""
    if item is None:
        return None
    return "n/a" if item.get("not_applicable") else item.get("rating")


def changes_of(
    *,
    before_ratings: list[dict] | None,
    before_card: dict | None,
    ratings: list[dict],
    card: dict,
    facts: list[dict] | None = None,
) -> dict:
    """What moved between two publications (``before_*`` None for the first one).

    {"first": bool, "ratings": [{"criterion", "from", "to"}], "evidence": [codes whose evidence
    changed but not the rating], "methodology"|"net"|"grade"|"status": {"from", "to"}}
    """
    before = {item["criterion"]: item for item in before_ratings or []}
    after = {item["criterion"]: item for item in ratings}
    moved, evidence = [], []
    if before_ratings is not None:
        for code in [*after, *(code for code in before if code not in after)]:
            old, new = before.get(code), after.get(code)
            if _rating(old) != _rating(new):
                moved.append({"criterion": code, "from": _rating(old), "to": _rating(new)})
            elif _content([old]) != _content([new]):
                evidence.append(code)
    old_card = before_card or {}
    old_overall = old_card.get("overall") or {}
    return {
        "first": before_ratings is None,
        "facts": facts or [],
        "ratings": moved,
        "evidence": evidence,
        "methodology": {"from": old_card.get("methodology"), "to": card["methodology"]},
        "status": {"from": old_card.get("status"), "to": card["status"]},
        "net": {"from": old_overall.get("value"), "to": card["overall"]["value"]},
        "grade": {"from": old_overall.get("grade"), "to": card["overall"]["grade"]},
    }


def fact_changes(project: Project) -> list[dict]:
    """The project's pending facts as changes: [{"field", "from" (published), "to" (draft)}]."""
    published = project.facts()
    return [
        {"field": field, "from": published[field], "to": value}
        for field, value in sorted((project.pending_facts or {}).items())
    ]


def _apply_pending_facts(project: Project) -> dict:
    """The column updates that make the pending facts public, keeping a renamed project's old
    slug as a permanent redirect."""
    pending = project.pending_facts or {}
    if "slug" in pending:
        SlugRedirect.objects.filter(old_slug=pending["slug"], project_id=project.pk).delete()
        SlugRedirect.objects.update_or_create(old_slug=project.slug, defaults={"project_id": project.pk})
    return {("operator_id" if key == "operator" else key): value for key, value in pending.items()}


def _same_card(published: ScoreCard, working: ScoreCard) -> bool:
    """The same figures under the same method (an edit and its revert make a new, equal card)."""
    return published.pk == working.pk or (
        published.methodology_id == working.methodology_id and published.card == working.card
    )


def draft_digest(project: Project) -> str:
    """A digest of everything publishing the project now would make public: its facts, its
    working ratings with their evidence, its working card and its state."""
    project = Project.objects.get(pk=project.pk).apply_pending()
    card = ScoreCard.objects.filter(pk=project.current_score_id).first()
    ratings = ratings_snapshot(project_id=project.pk, methodology=card.methodology) if card else []
    draft = {
        "facts": project.facts(),
        "state": project.state,
        "ratings": _content(ratings),
        "card": card.card if card else None,
    }
    text = json.dumps(draft, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _number_after(project_id: int) -> int:
    return (Publication.objects.filter(project_id=project_id).aggregate(n=Max("number"))["n"] or 0) + 1


def _review(*, project_id: int, actor: actors.Actor, kind: str, moment, note: str, **fields) -> Publication:
    """A reviewer's publication or withdrawal, numbered after the last, and its log entry."""
    publication = Publication.objects.create(
        project_id=project_id,
        number=_number_after(project_id),
        kind=kind,
        published_at=moment,
        published_by=actor.user,
        published_by_name=actor.user.get_username(),
        note=note,
        **fields,
    )
    change = Change.Kind.WITHDRAWAL if kind == Publication.Kind.WITHDRAWAL else Change.Kind.PUBLICATION
    record(
        kind=change,
        subject=str(publication.number),
        new={"note": note},
        project_id=project_id,
        publication=publication,
        actor=actor,
    )
    return publication


def project_publish(*, project: Project, note: str, digest: str | None = None) -> Publication:
    """Publish the project's working facts, ratings and card, with a note saying why, as the
    stated actor (``projects.actors``), who must be a reviewer who changed none of it.

    ``digest`` is the ``draft_digest`` the reviewer previewed: when given and the draft moved
    since, PreviewOutdated. Raises PublicationRefused (with the reason) when the note is missing,
    the actor may not review it, or nothing changed since the last publication.

    Allowed whatever the review state (services.review): four eyes is the gate, a submission
    only puts the project in the reviewers' queue. Publishing ends the round (state: draft).
    """
    actor = actors.required("publication")
    note = _clean_note(project, note)
    with transaction.atomic():
        # Edits lock the project row before they are logged: under the lock, the log is complete.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        _check_reviewer(locked, actor)
        if digest is not None and digest != draft_digest(locked):
            raise PreviewOutdated(
                _("%(name)s: it changed after your preview; look at the new preview before publishing.")
                % {"name": project.name}
            )
        card = project_rescore(project_id=project.pk)
        if card is None:
            raise PublicationRefused(
                _("%(name)s: no method is published, so there is no card to publish.")
                % {"name": project.name}
            )
        ratings = ratings_snapshot(project_id=project.pk, methodology=card.methodology)
        previous = (
            Publication.objects.select_related("score", "ratings_of").get(pk=locked.publication_id)
            if locked.publication_id
            else None
        )
        facts = fact_changes(locked)
        if (
            previous is not None
            and locked.state == PublicationState.PUBLISHED
            and not facts
            and _same_card(previous.score, card)
            and _content(previous.frozen_ratings) == _content(ratings)
        ):
            raise NothingToPublish(
                _("%(name)s: nothing changed since publication #%(number)d; nothing to publish.")
                % {"name": project.name, "number": previous.number}
            )
        now = timezone.now()
        publication = _review(
            project_id=project.pk,
            actor=actor,
            kind=Publication.Kind.PUBLICATION,
            moment=now,
            note=note,
            methodology=card.methodology,
            ratings=ratings,
            ratings_key=ratings_key(scored_parts(ratings)),
            score=card,
            changes=changes_of(
                before_ratings=previous.frozen_ratings if previous else None,
                before_card=previous.score.card if previous else None,
                ratings=ratings,
                card=card.card,
                facts=facts,
            ),
        )
        Project.objects.filter(pk=project.pk).update(
            **_apply_pending_facts(locked),
            pending_facts={},
            state=PublicationState.PUBLISHED,
            **published_columns(publication_id=publication.pk, card_id=card.pk, card=card.card, shown_at=now),
            review_state=ReviewState.DRAFT,  # the review round ends (services.review)
            updated_at=now,
            changed_at=now,
        )
        project_event(project.pk)  # partners' webhooks, queued with the publication
    project.refresh_from_db()
    return publication


def project_withdraw(*, project: Project, note: str) -> Publication:
    """Withdraw a published project from public view, as the stated actor (a reviewer who
    changed none of it since its last review), with a note saying why. The withdrawal is a
    publication of its own in the project's history; publishing again reinstates it."""
    actor = actors.required("withdrawal")
    note = _clean_note(project, note)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.state != PublicationState.PUBLISHED or locked.publication_id is None:
            raise PublicationRefused(
                _("%(name)s: it is not published; there is nothing to withdraw.") % {"name": project.name}
            )
        _check_reviewer(locked, actor)
        previous = Publication.objects.select_related("score", "ratings_of").get(pk=locked.publication_id)
        now = timezone.now()
        card = previous.score.card
        publication = _review(
            project_id=project.pk,
            actor=actor,
            kind=Publication.Kind.WITHDRAWAL,
            moment=now,
            note=note,
            methodology=previous.methodology,
            ratings=[],
            ratings_of=previous.ratings_of or previous,
            ratings_key=previous.ratings_key,
            score=previous.score,
            changes={
                **changes_of(
                    before_ratings=previous.frozen_ratings,
                    before_card=card,
                    ratings=previous.frozen_ratings,
                    card=card,
                ),
                "withdrawn": True,
            },
        )
        Project.objects.filter(pk=project.pk).update(
            state=PublicationState.DRAFT,
            # The public card stays that of the publication withdrawn, should it be shown again.
            **published_columns(
                publication_id=publication.pk,
                card_id=previous.score_id,
                card=card,
                shown_at=locked.published_at,
            ),
            review_state=ReviewState.DRAFT,
            updated_at=now,
            changed_at=now,
        )
        project_event(project.pk)
    project.refresh_from_db(fields=["state", *PUBLISHED_FIELDS, "review_state", "updated_at"])
    return publication


def draft_changes(project: Project) -> dict | None:
    """What publishing now would change (the same form as a publication's ``changes``), or None
    when the working facts, ratings and card are those published."""
    card = ScoreCard.objects.filter(pk=project.current_score_id).first()
    if card is None:
        return None
    ratings = ratings_snapshot(project_id=project.pk, methodology=card.methodology)
    previous = (
        Publication.objects.select_related("score", "ratings_of").filter(pk=project.publication_id).first()
    )
    facts = fact_changes(Project.objects.get(pk=project.pk))
    # A withdrawn project always has something to publish: publishing shows it again.
    if (
        previous is not None
        and project.state == PublicationState.PUBLISHED
        and not facts
        and _same_card(previous.score, card)
        and _content(previous.frozen_ratings) == _content(ratings)
    ):
        return None
    return changes_of(
        before_ratings=previous.frozen_ratings if previous else None,
        before_card=previous.score.card if previous else None,
        ratings=ratings,
        card=card.card,
        facts=facts,
    )


def operator_publish(*, operator: Operator, note: str) -> dict:
    """Make an operator's pending changes public, as the stated actor: a reviewer who made none
    of them (four eyes, as for projects). Returns what changed: {field: {"from", "to"}}."""
    actor = actors.required("publication of an operator")
    note = (note or "").strip()
    if not note:
        raise PublicationRefused(_("%(name)s: note: say why; a note is required.") % {"name": operator.name})
    with transaction.atomic():
        locked = Operator.objects.select_for_update().get(pk=operator.pk)
        if not actor.user.has_perm(REVIEWER_PERMISSION):
            raise PublicationRefused(_("%(name)s: publishing is for reviewers.") % {"name": locked.name})
        if actor.user.pk in operator_editors_since_review(locked.pk):
            raise PublicationRefused(
                _("%(name)s: you changed it; another reviewer must publish it.") % {"name": locked.name}
            )
        pending = locked.pending_facts or {}
        if not pending:
            raise NothingToPublish(_("%(name)s: no unpublished changes.") % {"name": locked.name})
        moved = {field: {"from": getattr(locked, field), "to": value} for field, value in pending.items()}
        Operator.objects.filter(pk=locked.pk).update(**pending, pending_facts={})
        now = timezone.now()
        Project.objects.filter(operator_id=locked.pk).update(updated_at=now, changed_at=now)  # for syncs
        record(
            kind=Change.Kind.PUBLICATION,
            subject="operator",
            new={"note": note, "changes": moved},
            operator_id=locked.pk,
            actor=actor,
        )
        site_changed()
    operator.refresh_from_db()
    return moved
