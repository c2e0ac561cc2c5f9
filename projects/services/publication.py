"""Publishing and withdrawing projects.

The public and partners see a project's last *publication*: its ratings and score card frozen
when a reviewer published them. Analysts' edits change the working ratings and the working card
(``Project.current_score``) only; they reach the public when a reviewer publishes again, with a
note saying why. Each publication records what moved since the one before (see ``changes_of``).

Four eyes: a reviewer may not publish a project whose ratings or facts they changed themselves
since its last publication (the audit trail says who changed what).
"""

import hashlib

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from projects.freshness import site_changed
from projects.interchange.exporter import assessment_record
from projects.models import Assessment, Methodology, Project, Publication, ScoreCard
from projects.models.publications import MAX_NOTE
from projects.vocabularies import PublicationState

from .scoring import project_rescore


class PublicationRefused(Exception):
    """The project cannot be published by this user; the message says why."""


class NothingToPublish(PublicationRefused):
    """The working ratings and card are those already published."""


def editors_since_publication(project: Project) -> set[int]:
    """Ids of the users who changed the project or its ratings since it was last published."""
    entries = LogEntry.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(Project), object_pk=str(project.pk))
        | Q(
            content_type=ContentType.objects.get_for_model(Assessment),
            object_pk__in=[str(pk) for pk in project.assessments.values_list("pk", flat=True)],
        )
    ).exclude(actor=None)
    if project.published_at is not None:
        entries = entries.filter(timestamp__gt=project.published_at)
    # Publishing itself is logged as a change of state; it is not an edit of the content.
    ignored = {"state", "published_at", "publication", "published_score"}
    return {entry.actor_id for entry in entries if set(entry.changes_dict or {}) - ignored}


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
    *, before_ratings: list[dict] | None, before_card: dict | None, ratings: list[dict], card: dict
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
        "ratings": moved,
        "evidence": evidence,
        "methodology": {"from": old_card.get("methodology"), "to": card["methodology"]},
        "status": {"from": old_card.get("status"), "to": card["status"]},
        "net": {"from": old_overall.get("value"), "to": card["overall"]["value"]},
        "grade": {"from": old_overall.get("grade"), "to": card["overall"]["grade"]},
    }


def _same_card(published: ScoreCard, working: ScoreCard) -> bool:
    """The same figures under the same method (an edit and its revert make a new, equal card)."""
    return published.pk == working.pk or (
        published.methodology_id == working.methodology_id and published.card == working.card
    )


def project_publish(*, project: Project, note: str, user=None) -> Publication:
    """Publish the project's working ratings and card, with a note saying why.

    Raises PublicationRefused (with the reason) when the note is missing, when ``user`` changed
    the project since its last publication, or when nothing changed since then.
    """
    note = (note or "").strip()
    if not note:
        raise PublicationRefused(f"{project.name}: note: say why this is published; a note is required.")
    if len(note) > MAX_NOTE:
        raise PublicationRefused(f"{project.name}: note: at most {MAX_NOTE} characters, not {len(note)}.")
    if user is not None and user.pk in editors_since_publication(project):
        raise PublicationRefused(
            f"{project.name}: you changed it since its last publication; another reviewer must publish it."
        )
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        card = project_rescore(project_id=project.pk)
        if card is None:
            raise PublicationRefused(
                f"{project.name}: no method is published, so there is no card to publish."
            )
        ratings = ratings_snapshot(project_id=project.pk, methodology=card.methodology)
        previous = (
            Publication.objects.select_related("score", "ratings_of").get(pk=locked.publication_id)
            if locked.publication_id
            else None
        )
        if (
            previous is not None
            and locked.state == PublicationState.PUBLISHED
            and _same_card(previous.score, card)
            and _content(previous.frozen_ratings) == _content(ratings)
        ):
            raise NothingToPublish(
                f"{project.name}: nothing changed since publication #{previous.number}; nothing to publish."
            )
        now = timezone.now()
        number = (Publication.objects.filter(project_id=project.pk).aggregate(n=Max("number"))["n"] or 0) + 1
        publication = Publication.objects.create(
            project_id=project.pk,
            number=number,
            published_at=now,
            published_by=user if getattr(user, "pk", None) else None,
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
            ),
        )
        Project.objects.filter(pk=project.pk).update(
            state=PublicationState.PUBLISHED,
            published_at=now,
            publication=publication,
            published_score=card,
            published_net=card.net_score,
            updated_at=now,
        )
    project.refresh_from_db(
        fields=["state", "published_at", "publication", "published_score", "published_net", "updated_at"]
    )
    return publication


def project_unpublish(*, project: Project, user=None) -> bool:
    """Withdraw a project from publication; returns False when it was a draft already.
    Its publications stay in its history."""
    changed = Project.objects.filter(pk=project.pk, state=PublicationState.PUBLISHED).update(
        state=PublicationState.DRAFT, updated_at=timezone.now()
    )
    if changed:
        site_changed()
    project.refresh_from_db(fields=["state", "updated_at"])
    return bool(changed)


def draft_changes(project: Project) -> dict | None:
    """What publishing now would change (the same form as a publication's ``changes``), or None
    when the working ratings and card are those published."""
    card = ScoreCard.objects.filter(pk=project.current_score_id).first()
    if card is None:
        return None
    ratings = ratings_snapshot(project_id=project.pk, methodology=card.methodology)
    previous = (
        Publication.objects.select_related("score", "ratings_of").filter(pk=project.publication_id).first()
    )
    # A withdrawn project always has something to publish: publishing shows it again.
    if (
        previous is not None
        and project.state == PublicationState.PUBLISHED
        and _same_card(previous.score, card)
        and _content(previous.frozen_ratings) == _content(ratings)
    ):
        return None
    return changes_of(
        before_ratings=previous.frozen_ratings if previous else None,
        before_card=previous.score.card if previous else None,
        ratings=ratings,
        card=card.card,
    )
