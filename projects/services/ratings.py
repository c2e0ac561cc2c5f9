"""Rating a project criterion by criterion, many at once (the admin's rating sheet).

Who may change ratings may also remove one: choosing "not assessed" makes the criterion missing
again, a change of its rating like any other (logged old → new with its actor), not the deletion
of a record. So the rule is ``change_assessment`` for both; Django's ``delete_assessment`` (which
analysts do not hold) plays no part in it.

A batch of changes is applied in one transaction, each rating through ``assessment_save`` or
``assessment_remove`` (the model logs it with the acting person and records them as assessor),
and the score card is computed once at the end. A batch made from an older reading of the
ratings is refused whole: it would silently undo what someone else saved meanwhile.
"""

import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from projects.models import Assessment, Criterion, Methodology, Project
from projects.models.assessments import RATING_FIELDS
from projects.services.scoring import project_rescore, rescoring_deferred


def assessment_save(assessment: Assessment) -> None:
    """Save one rating and recompute its project's card in the same transaction (within
    ``rescoring_deferred``, once at its end): the way every channel changes a rating, a shell's
    included, so a stored card is never stale."""
    with transaction.atomic():
        assessment.save()
        project_rescore(project_id=assessment.project_id)


def assessment_remove(assessment: Assessment) -> None:
    """Remove one rating (the criterion is missing again) and recompute its project's card in
    the same transaction."""
    with transaction.atomic():
        assessment.delete()
        project_rescore(project_id=assessment.project_id)


class RatingsOutdated(Exception):
    """The ratings changed after the batch's page was read: nothing was written."""


def may_change_ratings(user) -> bool:
    """Whoever may change a project's ratings, removing one ("not assessed") included."""
    return bool(user and user.is_active and user.is_staff and user.has_perm("projects.change_assessment"))


def ratings_digest(*, project_id: int, methodology: Methodology) -> str:
    """A fingerprint of a project's ratings under ``methodology``: any change to any of them
    (level, not applicable, evidence, grade, link; added or removed) changes it."""
    rows = (
        Assessment.objects.filter(project_id=project_id, criterion__methodology=methodology)
        .order_by("criterion__code")
        .values_list("criterion__code", *RATING_FIELDS)
    )
    text = json.dumps([list(row) for row in rows], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class RatingEdit:
    """What one criterion's rating should become: ``values`` (RATING_FIELDS), or None for
    "not assessed" (the stored rating, if any, is removed)."""

    criterion: Criterion
    values: dict | None


def ratings_apply(
    *, project: Project, methodology: Methodology, edits: list[RatingEdit], loaded_digest: str, user
) -> list[str]:
    """Apply ``edits`` to the project's ratings in one transaction, as ``user`` (who must be the
    acting person: the model records the actor). Only ratings that differ from the stored ones
    are written, so an unchanged criterion keeps its assessor and logs nothing. Returns the
    codes changed, in the order given.

    PermissionDenied when ``user`` may not change ratings; RatingsOutdated, with nothing
    written, when the stored ratings are not those ``loaded_digest`` was taken of."""
    if not may_change_ratings(user):
        raise PermissionDenied(_("You may not change ratings."))
    changed = []
    with rescoring_deferred():  # one transaction, one new score card at the end
        # Held until the commit: a concurrent batch waits here, then sees this one's changes.
        Project.objects.select_for_update().filter(pk=project.pk).values_list("pk").first()
        if ratings_digest(project_id=project.pk, methodology=methodology) != loaded_digest:
            raise RatingsOutdated(project.pk)
        stored = {
            assessment.criterion_id: assessment
            for assessment in Assessment.objects.filter(
                project=project, criterion__in=[edit.criterion for edit in edits]
            ).select_related("criterion")
        }
        for edit in edits:
            assessment = stored.get(edit.criterion.pk)
            if edit.values is None:
                if assessment is not None:
                    assessment_remove(assessment)
                    changed.append(edit.criterion.code)
                continue
            if assessment is None:
                assessment = Assessment(project=project, criterion=edit.criterion)
            elif assessment.rating() == {name: edit.values[name] for name in RATING_FIELDS}:
                continue
            for name in RATING_FIELDS:
                setattr(assessment, name, edit.values[name])
            assessment_save(assessment)
            changed.append(edit.criterion.code)
    return changed
