"""Computing and storing the uncertainty figures (the method's §8) of every rated published
project: one run, read from the published ratings, computed by the pure engine
(projects.scoring.uncertainty), written whole before readers see it (projects.models.uncertainty).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from projects import scoring
from projects.freshness import site_changed, site_generation
from projects.models import Project, ProjectUncertainty, UncertaintyRun
from projects.scoring.uncertainty import SCENARIOS, SEED, encode, grade_change_candidates, uncertainty
from projects.selectors import methodology_current

from .publication import scored_parts
from .scoring import method_spec

INSERT_BATCH = 2000


class NothingToCompute(Exception):
    """No published method version: there is nothing to compute the figures under."""


def rated_published(methodology) -> tuple[list[tuple[int, int]], list[list[scoring.Rating]], list[str]]:
    """The rated published projects under ``methodology``, by slug: (project id, publication
    id), their published ratings (as the engine reads them) and official grades. A project
    still published under an earlier version (a release's rescoring not yet through it) waits
    for the next run."""
    rows = (
        Project.objects.published()
        .filter(published_net__isnull=False, publication__methodology=methodology)
        .order_by("slug")
        .values_list(
            "pk",
            "publication_id",
            "published_score__grade",
            "publication__ratings",
            "publication__ratings_of__ratings",
        )
    )
    ids, projects, grades = [], [], []
    for pk, publication_id, grade, own, repeated in rows.iterator(chunk_size=2000):
        items = repeated if repeated is not None else own
        ratings = [scoring.Rating(*part) for part in scored_parts(items)]
        ids.append((pk, publication_id))
        projects.append(ratings)
        grades.append(grade)
    return ids, projects, grades


def grade_changes_of(spec, projects, candidates) -> list[list[dict]]:
    """§10 for each project, as stored: the screened candidates decided by the exact engine."""
    return [
        [
            {
                "criterion": change.code,
                "from": change.level_from,
                "to": change.level_to,
                "net": scoring.round_half_up(change.net, 1),
                "grade": change.grade,
            }
            for change in scoring.grade_changes_among(spec, ratings, screened)
        ]
        if screened
        else []
        for ratings, screened in zip(projects, candidates, strict=True)
    ]


def uncertainty_request(reason: str) -> bool:
    """Ask for a new run after the current transaction commits (publications, withdrawals, a
    method release's republications): one run waits at a time, so a burst of requests makes one
    run, queued ``UNCERTAINTY_DELAY`` seconds ahead to gather them. True when this request
    queued one (on commit: always False inside a transaction)."""
    queued = []

    def queue() -> None:
        from projects.tasks import uncertainty_refresh_enqueue

        queue.pending = False
        methodology = methodology_current()
        if methodology is None or UncertaintyRun.objects.filter(state=UncertaintyRun.State.QUEUED).exists():
            return
        try:
            with transaction.atomic():
                run = UncertaintyRun.objects.create(
                    methodology=methodology,
                    state=UncertaintyRun.State.QUEUED,
                    scenarios=SCENARIOS,
                    seed=SEED,
                    reason=reason,
                )
        except IntegrityError:  # another request queued one at the same moment
            return
        uncertainty_refresh_enqueue(run)
        queued.append(run)

    # Once per transaction: an import publishing 100,000 projects asks once, not 100,000 times.
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(callback, "pending", False) for _savepoints, callback, *_ in connection.run_on_commit
    ):
        return False
    queue.uncertainty_request = queue.pending = True
    transaction.on_commit(queue)
    return bool(queued)


def uncertainty_take(run_id: int) -> UncertaintyRun | None:
    """Start a queued run (a task worker's): None when another worker took it already."""
    started = UncertaintyRun.objects.filter(pk=run_id, state=UncertaintyRun.State.QUEUED).update(
        state=UncertaintyRun.State.RUNNING, started_at=timezone.now()
    )
    return UncertaintyRun.objects.get(pk=run_id) if started else None


def uncertainty_compute(
    *,
    scenarios: int = SCENARIOS,
    seed: int = SEED,
    reason: str = "",
    user=None,
    progress: Callable[[int, int], None] | None = None,
    run: UncertaintyRun | None = None,
) -> UncertaintyRun:
    """Compute a new run over every rated published project and make it the one readers see;
    older runs are removed. Raises NothingToCompute without a published method. A run that
    fails is kept as ``failed`` with its error, and the previous run stays the current one.
    ``run``: a queued run a worker took (uncertainty_take), computed with its K and seed."""
    methodology = methodology_current()
    if methodology is None:
        raise NothingToCompute()
    generation = site_generation().number
    if run is None:
        run = UncertaintyRun.objects.create(
            methodology=methodology,
            generation=generation,
            scenarios=scenarios,
            seed=seed,
            reason=reason,
            requested_by=user,
        )
    else:
        UncertaintyRun.objects.filter(pk=run.pk).update(methodology=methodology, generation=generation)
        scenarios, seed = run.scenarios, run.seed
    try:
        spec = method_spec(methodology)
        ids, projects, grades = rated_published(methodology)
        for ratings in projects:
            scoring.validate_ratings(spec, ratings)
        encoded = encode(spec, projects)
        figures = uncertainty(spec, encoded, grades, scenarios=scenarios, seed=seed, progress=progress)
        changes = grade_changes_of(spec, projects, grade_change_candidates(spec, encoded, grades))
        names = figures.grade_names
        rows = (
            ProjectUncertainty(
                run=run,
                project_id=pk,
                publication_id=publication_id,
                # One decimal, as every net score is shown (the engine computes in float32).
                net_p5=round(float(figures.net[index, 0]), 1),
                net_median=round(float(figures.net[index, 1]), 1),
                net_p95=round(float(figures.net[index, 2]), 1),
                grades={
                    name: round(float(share), 6)
                    for name, share in zip(names, figures.grades[index], strict=True)
                },
                rank_p5=int(figures.rank[index, 0]),
                rank_median=int(figures.rank[index, 1]),
                rank_p95=int(figures.rank[index, 2]),
                top10=round(float(figures.top10[index]), 6),
                stable=bool(figures.stable[index]),
                grade_changes=changes[index],
            )
            for index, (pk, publication_id) in enumerate(ids)
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
        # Readers move to this run at once; the runs finished before it go (a failed one stays,
        # to be seen; a queued one stays, to run).
        UncertaintyRun.objects.filter(state=UncertaintyRun.State.DONE).exclude(pk=run.pk).delete()
        site_changed()  # pages and API reads show the new figures
    run.refresh_from_db()
    return run


def current_run() -> UncertaintyRun | None:
    """The run readers see: the latest that finished."""
    return (
        UncertaintyRun.objects.filter(state=UncertaintyRun.State.DONE)
        .order_by(F("finished_at").desc(), F("pk").desc())
        .first()
    )
