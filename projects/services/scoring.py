"""Keeping score cards current: the bridge between stored ratings and the pure engine."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

from projects import scoring
from projects.models import Assessment, Methodology, Project, ScoreCard
from projects.selectors import criteria_of, methodology_current

# Published methods never change, so their engine form is built once per process.
_published_specs: dict[int, scoring.Method] = {}
_deferred: ContextVar[set[int] | None] = ContextVar("deferred_rescoring", default=None)


def method_spec(methodology: Methodology) -> scoring.Method:
    """The engine's view of a stored methodology version."""
    if methodology.is_published and methodology.pk in _published_specs:
        return _published_specs[methodology.pk]
    data = dict(methodology.parameters)
    data["version"] = methodology.version
    data["criteria"] = [
        {"code": code, "dimension": dimension, "weight": weight}
        for code, dimension, weight in criteria_of(methodology).values_list("code", "dimension", "weight")
    ]
    spec = scoring.Method.from_dict(data)
    if methodology.is_published:
        _published_specs[methodology.pk] = spec
    return spec


@contextmanager
def rescoring_deferred() -> Iterator[None]:
    """Within this block, rescore each touched project once, at the end, in one transaction.

    Saving 25 assessments of a project then computes one card (one history entry), not 25.
    """
    if _deferred.get() is not None:  # already inside an outer block: it will rescore
        yield
        return
    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        with transaction.atomic():
            yield
            _deferred.set(None)
            for project_id in sorted(pending):
                project_rescore(project_id=project_id)
    finally:
        _deferred.reset(token)


def project_rescore(*, project_id: int, methodology: Methodology | None = None) -> ScoreCard | None:
    """Recompute a project's card from its stored ratings; store it if anything changed.

    Returns the current card (new or unchanged), or None when no method is published yet.
    """
    pending = _deferred.get()
    if pending is not None:
        pending.add(project_id)
        return None
    methodology = methodology or methodology_current()
    if methodology is None:
        return None
    with transaction.atomic():
        # Lock the project row so that concurrent writers rescore one after the other; read the
        # current card only once the lock is held (a join read with the lock can come back empty
        # on PostgreSQL after waiting for another writer).
        current_id = (
            Project.objects.select_for_update()
            .filter(pk=project_id)
            .values_list("current_score_id", flat=True)
            .get()
        )
        current = ScoreCard.objects.filter(pk=current_id).first() if current_id else None
        ratings = [
            scoring.Rating(code, level, grade or None, not_applicable)
            for code, level, grade, not_applicable in Assessment.objects.filter(
                project_id=project_id, criterion__methodology=methodology
            ).values_list("criterion__code", "level", "evidence_grade", "not_applicable")
        ]
        card = scoring.score(method_spec(methodology), ratings).as_dict()
        if current is not None and current.methodology_id == methodology.pk and current.card == card:
            return current
        new_card = ScoreCard.from_card(project_id=project_id, methodology=methodology, card=card)
        new_card.save()
        # Only the working card moves: ``updated_at`` dates what the public sees (facts and
        # publications), so an unpublished edit does not show there (write keys date their
        # reads by the working card's ``computed_at`` too).
        Project.objects.filter(pk=project_id).update(current_score=new_card)
        return new_card
