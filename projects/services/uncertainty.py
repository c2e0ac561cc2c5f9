"""Computing and storing the uncertainty figures (the method's §8) of every rated published
project: one run, read from the published ratings, computed by the pure engine
(projects.scoring.uncertainty), written whole before readers see it (projects.models.uncertainty).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from projects import scoring
from projects.freshness import site_generation
from projects.models import Project, ProjectUncertainty, UncertaintyRun
from projects.scoring.uncertainty import SCENARIOS, SEED, encode, uncertainty
from projects.selectors import methodology_current

from .scoring import method_spec

INSERT_BATCH = 2000


class NothingToCompute(Exception):
    """No published method version: there is nothing to compute the figures under."""


def rated_published(methodology) -> tuple[list[int], list[list[scoring.Rating]], list[str]]:
    """The rated published projects under ``methodology``, by slug: ids, their published
    ratings (as the engine reads them) and official grades. A project still published under an
    earlier version (a release's rescoring not yet through it) waits for the next run."""
    rows = (
        Project.objects.published()
        .filter(published_net__isnull=False, publication__methodology=methodology)
        .order_by("slug")
        .values_list(
            "pk", "published_score__grade", "publication__ratings", "publication__ratings_of__ratings"
        )
    )
    ids, projects, grades = [], [], []
    for pk, grade, own, repeated in rows.iterator(chunk_size=2000):
        items = repeated if repeated is not None else own
        ratings = [
            scoring.Rating(
                item["criterion"],
                None if item.get("not_applicable") else item.get("rating"),
                item.get("evidence_grade") or None,
                bool(item.get("not_applicable")),
            )
            for item in items
        ]
        ids.append(pk)
        projects.append(ratings)
        grades.append(grade)
    return ids, projects, grades


def uncertainty_compute(
    *,
    scenarios: int = SCENARIOS,
    seed: int = SEED,
    reason: str = "",
    user=None,
    progress: Callable[[int, int], None] | None = None,
) -> UncertaintyRun:
    """Compute a new run over every rated published project and make it the one readers see;
    older runs are removed. Raises NothingToCompute without a published method. A run that
    fails is kept as ``failed`` with its error, and the previous run stays the current one."""
    methodology = methodology_current()
    if methodology is None:
        raise NothingToCompute()
    generation = site_generation().number
    run = UncertaintyRun.objects.create(
        methodology=methodology,
        generation=generation,
        scenarios=scenarios,
        seed=seed,
        reason=reason,
        requested_by=user,
    )
    try:
        spec = method_spec(methodology)
        ids, projects, grades = rated_published(methodology)
        for ratings in projects:
            scoring.validate_ratings(spec, ratings)
        figures = uncertainty(
            spec, encode(spec, projects), grades, scenarios=scenarios, seed=seed, progress=progress
        )
        names = figures.grade_names
        rows = (
            ProjectUncertainty(
                run=run,
                project_id=pk,
                net_p5=float(figures.net[index, 0]),
                net_median=float(figures.net[index, 1]),
                net_p95=float(figures.net[index, 2]),
                grades={name: float(share) for name, share in zip(names, figures.grades[index], strict=True)},
                rank_p5=int(figures.rank[index, 0]),
                rank_median=int(figures.rank[index, 1]),
                rank_p95=int(figures.rank[index, 2]),
                top10=float(figures.top10[index]),
                stable=bool(figures.stable[index]),
            )
            for index, pk in enumerate(ids)
        )
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == INSERT_BATCH:
                ProjectUncertainty.objects.bulk_create(batch)
                batch = []
        ProjectUncertainty.objects.bulk_create(batch)
    except Exception as error:
        UncertaintyRun.objects.filter(pk=run.pk).update(
            state=UncertaintyRun.State.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        raise
    with transaction.atomic():
        UncertaintyRun.objects.filter(pk=run.pk).update(
            state=UncertaintyRun.State.DONE, projects=len(ids), finished_at=timezone.now()
        )
        # Readers move to this run at once; the ones before it go (a failed one stays, to be seen).
        UncertaintyRun.objects.filter(pk__lt=run.pk).exclude(state=UncertaintyRun.State.FAILED).delete()
    run.refresh_from_db()
    return run


def current_run() -> UncertaintyRun | None:
    """The run readers see: the latest that finished."""
    return UncertaintyRun.objects.filter(state=UncertaintyRun.State.DONE).order_by(F("pk").desc()).first()
