"""Computing and storing the uncertainty figures (the method's §8) of every rated published
project: one run, read from the published ratings, computed by the pure engine
(projects.scoring.uncertainty), written whole before readers see it (projects.models.uncertainty).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from functools import partial
from typing import NamedTuple

import numpy as np
import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from projects import scoring
from projects.freshness import site_changed, site_generation
from projects.models import Project, ProjectUncertainty, UncertaintyRun
from projects.scoring.uncertainty import (
    SCENARIOS,
    SEED,
    Encoded,
    ScreenedChanges,
    decide_changes,
    dimension_values,
    encode,
    encode_parts,
    grade_changes_screened,
    uncertainty,
)
from projects.selectors import methodology_current

from .bulk import insert_rows, statistics_refresh
from .leases import Heartbeat, database_task_results, tasks_lost
from .publication import scored_parts
from .scoring import method_spec

DEFAULT_LEASE = 60  # seconds without a sign of life before a running run counts as lost

logger = logging.getLogger(__name__)


class NothingToCompute(Exception):
    """No published method version: there is nothing to compute the figures under."""


def _rated_published_rows(methodology):
    return (
        Project.objects.published()
        .filter(published_net__isnull=False, publication__methodology=methodology)
        .order_by("slug")
    )


def ratings_from_texts(own, repeated) -> list[scoring.Rating]:
    """A publication's ratings (its own, or those of the publication it repeats), read as JSON
    text and parsed with orjson: at 100,000 projects the parsing was most of the read."""
    items = orjson.loads(repeated if repeated is not None else own)
    return [scoring.Rating(*part) for part in scored_parts(items)]


RATINGS = ("own_ratings", "repeated_ratings")
RATING_TEXTS = {
    "own_ratings": Cast("publication__ratings", TextField()),
    "repeated_ratings": Cast("publication__ratings_of__ratings", TextField()),
}


class PublishedSet(NamedTuple):
    """The rated published projects of a run, by slug, as ``rated_published_encoded`` reads
    them."""

    ids: list[tuple[int, int]]  # (project id, publication id)
    encoded: Encoded  # their ratings as the engine's arrays
    grades: list[str]  # official grades
    nets: list[float]  # published net scores
    screened: list[ScreenedChanges]  # §10 as far as the float screen decides it
    asked: dict[int, list[scoring.Rating]]  # the ratings of those it leaves to the exact engine


def rated_published_encoded(spec, methodology) -> PublishedSet:
    """The rated published projects under ``methodology``, by slug (a project still published
    under an earlier version, a release's rescoring not yet through it, waits for the next run),
    as the engine's arrays, read, checked, encoded and screened for §10
    a chunk at a time: the ratings of 100,000 projects are never all in memory as objects; only
    those of the projects whose §10 the screen leaves to the exact engine are kept (about one in
    eight), so that they need not be read again."""
    rows = (
        _rated_published_rows(methodology)
        .annotate(**RATING_TEXTS)
        .values_list("pk", "publication_id", "published_score__grade", "published_net", *RATINGS)
    )
    ids, grades, nets, parts, chunk = [], [], [], [], []
    screened: list[ScreenedChanges] = []
    asked: dict[int, list[scoring.Rating]] = {}

    def flush() -> None:
        if not chunk:
            return
        part = encode_parts(spec, chunk)
        parts.append(part)
        first = len(screened)
        screened.extend(grade_changes_screened(spec, part, grades[first:]))
        for offset, result in enumerate(screened[first:]):
            if result.ask or result.exact:
                asked[first + offset] = [scoring.Rating(*rating) for rating in chunk[offset]]
        chunk.clear()

    for pk, publication_id, grade, net, own, repeated in rows.iterator(chunk_size=2000):
        ids.append((pk, publication_id))
        grades.append(grade)
        nets.append(net)
        chunk.append(list(scored_parts(orjson.loads(repeated if repeated is not None else own))))
        if len(chunk) == 2000:
            flush()
    flush()
    encoded = (
        Encoded(
            levels=np.concatenate([part.levels for part in parts]),
            moves=np.concatenate([part.moves for part in parts]),
        )
        if parts
        else encode(spec, [])
    )
    return PublishedSet(ids, encoded, grades, nets, screened, asked)


def _change(code: str, level_from: int, level_to: int, net: float, grade: str) -> dict:
    return {"criterion": code, "from": level_from, "to": level_to, "net": net, "grade": grade}


def published_ranks(nets: list[float]) -> list[int]:
    """Each project's place by its published net score (1 + the number with a higher one: ties
    share a place), as the rankings count it."""
    values = np.array(nets, dtype=np.float64)
    ordered = np.sort(values)
    # Those strictly higher: all minus those at or below.
    return (len(values) - np.searchsorted(ordered, values, side="right") + 1).tolist()


PARALLEL_FROM = 2000  # projects left to the exact engine from which two processes share them

# What the forked processes of decided_exactly read: set in the parent just before they fork.
_exact_work: tuple = ()


def _decide_share(indexes: list[int]) -> list[list[tuple]]:
    spec, screened, asked = _exact_work
    return [decide_changes(spec, asked[index], screened[index]) for index in indexes]


def decided_exactly(spec, screened, asked) -> dict[int, list[tuple]]:
    """The exact engine's §10 of the projects the screen left to it (``asked``: their ratings,
    by position). Pure computation, 8 s at 100,000 projects on one core: from PARALLEL_FROM
    projects it is shared by one forked process per core (they only compute: no database, no
    I/O; the parent's memory is theirs by the fork, and the answers come back pickled)."""
    global _exact_work
    indexes = sorted(asked)
    processes = min(os.cpu_count() or 1, 4)
    if len(indexes) < PARALLEL_FROM or processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return {index: decide_changes(spec, asked[index], screened[index]) for index in indexes}
    shares = [indexes[number::processes] for number in range(processes)]
    _exact_work = (spec, screened, asked)
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            answers = list(pool.map(_decide_share, shares))
    finally:
        _exact_work = ()
    return {
        index: changes
        for share, found in zip(shares, answers, strict=True)
        for index, changes in zip(share, found, strict=True)
    }


def grade_changes_of(spec, screened, asked) -> list[list[dict]]:
    """§10 for each project, as stored: what the float screen decided, completed by the exact
    engine where it asks (``asked``: those projects' ratings, by position)."""
    decided = decided_exactly(spec, screened, asked)
    return [
        [_change(*change) for change in decided.get(index, [c[:5] for c in result.changes])]
        for index, result in enumerate(screened)
    ]


def uncertainty_queue(reason: str) -> UncertaintyRun | None:
    """Queue a run now, unless one waits already (then that one will read the newest data):
    the queued run, or None."""
    from projects.tasks import uncertainty_refresh_enqueue

    methodology = methodology_current()
    if methodology is None or UncertaintyRun.objects.filter(state=UncertaintyRun.State.QUEUED).exists():
        return None
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
        return None
    uncertainty_refresh_enqueue(run)
    return run


def uncertainty_request(reason: str) -> bool:
    """Ask for a new run after the current transaction commits (publications, withdrawals, a
    method release's republications): one run waits at a time, so a burst of requests makes one
    run, queued ``UNCERTAINTY_DELAY`` seconds ahead to gather them. True when this request
    queued one (on commit: always False inside a transaction)."""
    queued = []

    def queue() -> None:
        queue.pending = False
        run = uncertainty_queue(reason)
        if run is not None:
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


# --- a worker that dies while computing --------------------------------------------------------
# A run's worker gives a sign of life (``heartbeat_at``) four times a lease while it computes;
# a watchdog task (projects.tasks.uncertainty_watch), queued when the run starts, looks every
# half lease. A run silent for a whole lease lost its worker: it fails, saying so, and a new run
# is queued. The figures readers see stay those of the last finished run meanwhile.


def uncertainty_lease() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "UNCERTAINTY_LEASE", DEFAULT_LEASE)))


def uncertainty_beat(run_id: int) -> bool:
    """A sign of life from the worker computing the run; False once it is no longer running."""
    return bool(
        UncertaintyRun.objects.filter(pk=run_id, state=UncertaintyRun.State.RUNNING).update(
            heartbeat_at=timezone.now()
        )
    )


def uncertainty_reap(run_id: int) -> str:
    """Look at a run for its watchdog: "lost" when it was running without a sign of life for a
    whole lease (it is failed, its rows removed, and a new run queued), "running" while its
    worker lives, "finished" otherwise."""
    now = timezone.now()
    silent_since = now - uncertainty_lease()
    run = UncertaintyRun.objects.filter(pk=run_id).first()
    if run is None or run.state != UncertaintyRun.State.RUNNING:
        return "finished"
    since = timezone.localtime(run.heartbeat_at or run.started_at).strftime("%Y-%m-%d %H:%M:%S")
    with transaction.atomic():
        lost = (
            UncertaintyRun.objects.filter(pk=run_id, state=UncertaintyRun.State.RUNNING)
            .filter(
                Q(heartbeat_at__lt=silent_since) | Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
            )
            .update(
                state=UncertaintyRun.State.FAILED,
                error=f"WorkerLost: its worker stopped without finishing (no sign of life since {since})",
                finished_at=now,
            )
        )
        if lost:
            ProjectUncertainty.objects.filter(run_id=run_id).delete()
    if not lost:
        return "running"
    _task_lost(run_id, since)
    uncertainty_queue("worker lost")
    return "lost"


def _task_lost(run_id: int, since: str) -> None:
    tasks = database_task_results()
    if tasks is None:
        return
    running = tasks.objects.filter(task_path="projects.tasks.uncertainty_refresh", status="RUNNING")
    lost = [task.pk for task in running.only("pk", "args_kwargs") if task.args_kwargs.get("args") == [run_id]]
    tasks_lost(lost, f"no sign of life since {since}; run {run_id} failed, another is queued.")


def uncertainty_take(run_id: int) -> UncertaintyRun | None:
    """Start a queued run (a task worker's): None when another worker took it already."""
    now = timezone.now()
    started = UncertaintyRun.objects.filter(pk=run_id, state=UncertaintyRun.State.QUEUED).update(
        state=UncertaintyRun.State.RUNNING, started_at=now, heartbeat_at=now
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
            heartbeat_at=timezone.now(),
        )
    else:
        UncertaintyRun.objects.filter(pk=run.pk).update(methodology=methodology, generation=generation)
        scenarios, seed = run.scenarios, run.seed
    beat = partial(uncertainty_beat, run.pk)
    with Heartbeat(beat, lease=lambda: uncertainty_lease().total_seconds(), name=f"uncertainty run {run.pk}"):
        _compute(run, methodology, scenarios=scenarios, seed=seed, progress=progress)
    with transaction.atomic():
        finished = UncertaintyRun.objects.filter(pk=run.pk, state=UncertaintyRun.State.RUNNING).update(
            state=UncertaintyRun.State.DONE, finished_at=timezone.now()
        )
        if finished:
            # Readers move to this run at once; the runs finished before it go (a failed one
            # stays, to be seen, without its rows; a queued one stays, to run).
            older = UncertaintyRun.objects.filter(state=UncertaintyRun.State.DONE).exclude(pk=run.pk)
            # The rows first, in one statement each (a cascade from the runs would load them all).
            ProjectUncertainty.objects.filter(run__in=list(older.values_list("pk", flat=True))).delete()
            ProjectUncertainty.objects.filter(
                run__in=list(
                    UncertaintyRun.objects.filter(state=UncertaintyRun.State.FAILED).values_list(
                        "pk", flat=True
                    )
                )
            ).delete()
            older.delete()
            site_changed()  # pages and API reads show the new figures
        else:  # its watchdog took it for lost meanwhile (a new run is queued): it is not shown
            ProjectUncertainty.objects.filter(run_id=run.pk).delete()
    # The table's rows were all replaced: planned on the previous run's statistics, PostgreSQL
    # read every row of the run for each project of an API list (0.7 s a page at 100,000).
    statistics_refresh(ProjectUncertainty)
    run.refresh_from_db()
    return run


def _compute(run: UncertaintyRun, methodology, *, scenarios: int, seed: int, progress) -> None:
    """Compute the run's figures and insert its rows (readers see none of them until it is
    done); a failure fails the run, with its error, and is raised.

    The cyclic garbage collector is paused meanwhile: the run makes millions of short-lived
    objects and no cycles, and the collector's passes over them cost seconds at 100,000
    projects."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        spec = method_spec(methodology)
        ids, encoded, grades, nets, screened, asked = rated_published_encoded(spec, methodology)
        figures = uncertainty(spec, encoded, grades, scenarios=scenarios, seed=seed, progress=progress)
        changes = grade_changes_of(spec, screened, asked)
        del screened, asked
        ranks = published_ranks(nets)
        values = stored_values(spec, dimension_values(spec, encoded))
        rows = list(figure_rows(run.pk, ids, figures, ranks, changes, values))
        insert_rows(ProjectUncertainty, FIGURE_COLUMNS, rows)
        UncertaintyRun.objects.filter(pk=run.pk).update(projects=len(ids))
    except Exception as error:
        UncertaintyRun.objects.filter(pk=run.pk).update(
            state=UncertaintyRun.State.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        ProjectUncertainty.objects.filter(run_id=run.pk).delete()
        raise
    finally:
        if collecting:
            gc.enable()


VALUE_KEYS = ("sdg7", "sdg9", "sdg12", "debris", "equity")  # ProjectUncertainty.value_<key>


def stored_values(spec, values) -> list[tuple]:
    """Each project's unrounded dimension values in VALUE_KEYS order (None for a NaN, and for a
    dimension the method does not have)."""
    keys = [dimension.key for dimension in spec.dimensions]
    stored = np.full((len(values), len(VALUE_KEYS)), None, dtype=object)
    for column, key in enumerate(VALUE_KEYS):
        if key in keys:
            found = values[:, keys.index(key)]
            stored[:, column] = np.where(np.isnan(found), None, found.astype(object))
    return list(map(tuple, stored.tolist()))  # Python floats and None, a column at a time


FIGURE_COLUMNS = [
    "run_id",
    "project_id",
    "publication_id",
    "net_p5",
    "net_median",
    "net_p95",
    "grades",
    "rank",
    "rank_p5",
    "rank_median",
    "rank_p95",
    "top10",
    "stable",
    "grade_changes",
    *(f"value_{key}" for key in VALUE_KEYS),
]


def figure_rows(
    run_id: int, ids, figures, ranks: list[int], changes: list[list[dict]], values: list[tuple]
) -> Iterator[tuple]:
    """The run's rows as the database stores them (projects.services.bulk writes them without
    a model instance each: at 100,000 projects, bulk_create's per-field work was most of the
    write). Net scores to one decimal, as every net score is shown (the engine computes in
    float32); shares to six."""
    net = [[round(value, 1) for value in column] for column in figures.net.T.tolist()]
    rank = figures.rank.T.tolist()
    top10 = [round(value, 6) for value in figures.top10.tolist()]
    stable = figures.stable.tolist()
    names = figures.grade_names
    for index, (pk, publication_id) in enumerate(ids):
        shares = {
            name: round(share, 6) for name, share in zip(names, figures.grades[index].tolist(), strict=True)
        }
        yield (
            run_id,
            pk,
            publication_id,
            net[0][index],
            net[1][index],
            net[2][index],
            orjson.dumps(shares).decode(),
            ranks[index],
            rank[0][index],
            rank[1][index],
            rank[2][index],
            top10[index],
            bool(stable[index]),
            orjson.dumps(changes[index]).decode(),
            *values[index],
        )


def current_run() -> UncertaintyRun | None:
    """The run readers see: the latest that finished."""
    return (
        UncertaintyRun.objects.filter(state=UncertaintyRun.State.DONE)
        .order_by(F("finished_at").desc(), F("pk").desc())
        .first()
    )
