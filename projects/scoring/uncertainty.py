"""Uncertainty and rank stability (the method's §8): how far each rated project's net score,
grade and rank could plausibly move, over K scenarios drawn from the evidence grades, the missing
ratings, the impact weights and α.

Pure (numpy; no Django, no I/O) and vectorised over all projects at once: the scenarios are
shared by every project, as ranks need. The arithmetic is the engine's (§4) in floating point, on
levels drawn per scenario; every criterion is then assessed, so coverage is complete and the
status is rated. Deterministic: the same projects in the same order, the same method, K and seed
give the same figures on any machine (docs/scoring.md, "Uncertainty and rank stability", says how
the random numbers are drawn).

Memory: one float32 per project and scenario (400 MB for 100,000 projects × 1,000 scenarios),
filled with net scores and then, row by row, replaced by ranks; the draws are made for
``CHUNK`` projects at a time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

from .engine import IMPACT, MAX_LEVEL, RISK, Method, Rating, validate_ratings

SEED = 20261205  # the documented default seed
SCENARIOS = 1000  # K, the default and the method's minimum
CHUNK = 256  # projects drawn at a time: part of how the draws are made (keep it fixed)
# §8: the chance that a level moves one step (half up, half down), by evidence grade.
MOVE_CHANCE = {"A": 0.0, "B": 0.10, "C": 0.25, "D": 0.40}
WEIGHT_SPREAD = 0.25  # each SDG dimension's weight × a factor uniform on [1 − spread, 1 + spread]
ALPHA_RANGE = (0.4, 0.6)  # α_s uniform on this range
TOP = 10  # "top10": the share of scenarios ranked at or above this rank

TOLERANCE = 1e-9  # float rounding at a grade or risk-level boundary (see score_levels)

MISSING = -1
NOT_APPLICABLE = -2


@dataclass(frozen=True)
class Encoded:
    """Projects' ratings as arrays, criteria in the method's order: ``levels`` 0–4, MISSING or
    NOT_APPLICABLE; ``moves`` the chance that an assessed level moves (0 where none is drawn)."""

    levels: np.ndarray  # int8 [projects, criteria]
    moves: np.ndarray  # float32 [projects, criteria]


def encode(method: Method, projects: Iterable[Iterable[Rating]]) -> Encoded:
    """The arrays of ``projects`` (each an iterable of the engine's Ratings), checked as
    ``validate_ratings`` checks them: ``encode_parts`` of their fields."""
    return encode_parts(
        method,
        ([(r.code, r.level, r.evidence_grade, r.not_applicable) for r in ratings] for ratings in projects),
    )


def _row(index: dict[str, int], parts: Iterable[Sequence]) -> tuple[list[int], list[float]]:
    """One project's row of levels and move chances, from checked rating parts."""
    levels, moves = [MISSING] * len(index), [0.0] * len(index)
    for code, level, grade, not_applicable in parts:
        if not_applicable:
            levels[index[code]] = NOT_APPLICABLE
        else:
            levels[index[code]], moves[index[code]] = level, MOVE_CHANCE[grade]
    return levels, moves


def encode_parts(method: Method, projects: Iterable[Sequence[tuple]]) -> Encoded:
    """The arrays of projects given as rating parts (code, level, evidence grade, not
    applicable: a Rating's fields in order), each checked as ``validate_ratings`` checks it,
    without making a Rating of each: at 100,000 projects the objects were most of a run's read.
    A project the quick check does not pass is made into Ratings and validated by the engine
    itself, so that what it refuses raises the engine's own RatingError."""
    index = {criterion.code: position for position, criterion in enumerate(method.criteria)}
    quality = method.evidence_quality
    width = len(index)
    rows, chances = [], []
    for parts in projects:
        parts = list(parts)
        levels, moves = [MISSING] * width, [0.0] * width
        for code, level, grade, not_applicable in parts:  # checked and encoded in one pass
            position = index.get(code)
            if position is None or levels[position] != MISSING:
                break
            if not_applicable:
                if level is not None:
                    break
                levels[position] = NOT_APPLICABLE
            elif type(level) is int and 0 <= level <= MAX_LEVEL and grade in quality:
                levels[position], moves[position] = level, MOVE_CHANCE[grade]
            else:
                break
        else:
            rows.append(levels)
            chances.append(moves)
            continue
        # The engine's own check: it raises what the quick one stopped at (or passes what it
        # was too strict for, which is then encoded from the validated Ratings).
        checked = validate_ratings(method, [Rating(*part) for part in parts]).values()
        levels, moves = _row(index, [(r.code, r.level, r.evidence_grade, r.not_applicable) for r in checked])
        rows.append(levels)
        chances.append(moves)
    return Encoded(
        levels=np.array(rows, dtype=np.int8).reshape(-1, width),
        moves=np.array(chances, dtype=np.float32).reshape(-1, width),
    )


def dimension_values(method: Method, encoded: Encoded) -> np.ndarray:
    """Each project's unrounded value of each dimension (§4: 100 · Σ w·r ÷ (4 · Σ w) over its
    assessed criteria), float64 [projects, dimensions] in the method's dimension order: what a
    custom profile's ranking is ordered by (§9). Weights are integers, so both sums are exact and
    each value is the exact one correctly rounded, as ``float`` of the engine's Fraction. A
    dimension with no assessed criterion is NaN for an impact dimension (it drops out of the
    impact) and 0 for a risk dimension, as on a rated project's card."""
    keys = [dimension.key for dimension in method.dimensions]
    weights = np.zeros((len(method.criteria), len(keys)))
    for row, criterion in enumerate(method.criteria):
        weights[row, keys.index(criterion.dimension)] = criterion.weight
    assessed = encoded.levels >= 0
    sums = np.where(assessed, encoded.levels, 0).astype(np.float64) @ weights
    totals = assessed.astype(np.float64) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (100 * sums) / (4 * totals)
    risk = np.array([dimension.kind == RISK for dimension in method.dimensions])
    return np.where(totals > 0, values, np.where(risk, 0.0, np.nan))


@dataclass(frozen=True)
class Figures:
    """§8 for each project, in the order given: arrays of one row per project."""

    net: np.ndarray  # float64 [projects, 3]: p5, median, p95
    grades: np.ndarray  # float64 [projects, grades]: share of scenarios in each grade, best first
    grade_names: tuple[str, ...]
    rank: np.ndarray  # int32 [projects, 3]: p5 (the better end), median, p95
    top10: np.ndarray  # float64 [projects]
    stable: np.ndarray  # bool [projects]
    scenarios: int
    seed: int


def position(q: float, scenarios: int) -> int:
    """The 0-based index of the q-quantile in K sorted values: position ⌈q·K⌉ counted from 1."""
    return max(math.ceil(q * scenarios), 1) - 1


QUANTILES = (0.05, 0.5, 0.95)

_threadpools: list[ThreadpoolController] = []


def one_blas_thread():
    """numpy's BLAS (its matmul) to one thread while the engine runs: the engine's own threads
    already share the chunks, and BLAS's threads only spun waiting on them (a quarter of the
    engine's time at 100,000 projects). The libraries are looked up once."""
    if not _threadpools:
        _threadpools.append(ThreadpoolController())
    return _threadpools[0].limit(limits=1, user_api="blas")


class _Model:
    """The method as arrays: which criterion belongs to which dimension, weights, bands."""

    def __init__(self, method: Method, weight_spread: float, alpha_range: tuple[float, float]):
        self.method = method
        dimensions = method.dimensions
        self.impact = [d for d in dimensions if d.kind == IMPACT]
        self.risks = [d for d in dimensions if d.kind == RISK]
        self.order = [*self.impact, *self.risks]
        columns = {d.key: position for position, d in enumerate(self.order)}
        self.membership = np.zeros((len(method.criteria), len(self.order)), dtype=np.float32)
        for row, criterion in enumerate(method.criteria):
            self.membership[row, columns[criterion.dimension]] = 1
        self.weights = np.array([c.weight for c in method.criteria], dtype=np.float32)
        self.is_risk_criterion = np.array(
            [columns[c.dimension] >= len(self.impact) for c in method.criteria], dtype=bool
        )
        self.risk_list = [int(position) for position in np.flatnonzero(self.is_risk_criterion)]
        self.impact_weights = np.array([float(d.impact_weight) for d in self.impact], dtype=np.float64)
        self.grade_names = tuple(grade for grade, _ in method.grade_bands)
        self.grade_minimums = np.array([float(minimum) for _, minimum in method.grade_bands[:-1]])
        self.high_from = float(method.risk_bands[-2][1]) if len(method.risk_bands) > 1 else 0.0
        self.cap_high = self.grade_names.index(method.cap_risk_level_high)
        self.cap_severe = self.grade_names.index(method.cap_severe_rating)
        self.severe = method.severe_rating
        self.alpha = float(method.alpha)
        self.weight_spread = weight_spread
        self.alpha_range = alpha_range

    def shared(self, scenarios: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The draws every project shares: each SDG dimension's weight factor and α, per scenario."""
        generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
        spread = self.weight_spread
        factors = generator.uniform(1 - spread, 1 + spread, size=(scenarios, len(self.impact)))
        alphas = generator.uniform(*self.alpha_range, size=scenarios)
        return factors, alphas

    def nets_and_grades(
        self, levels: np.ndarray, moves: np.ndarray, factors, alphas, generator, keep_levels=False
    ):
        """Net scores [projects, K] and grade indexes [projects, K] of a chunk of projects (and,
        with ``keep_levels``, the drawn levels [projects, K, criteria], for tests)."""
        scenarios = len(alphas)
        count, width = levels.shape
        # One uniform draw per project, scenario and criterion, in that order (float32).
        draws = generator.random((count, scenarios, width), dtype=np.float32)
        half = (moves / 2)[:, None, :]
        # +1 below half the chance, −1 from there to the chance, else 0; then within 0–4.
        drawn = (draws < half).astype(np.float32)
        drawn *= 2
        drawn -= draws < 2 * half
        drawn += levels[:, None, :]
        np.clip(drawn, 0, 4, out=drawn)
        missing_rows, missing_columns = np.nonzero(levels == MISSING)
        drawn[missing_rows, :, missing_columns] = np.minimum(
            np.floor(draws[missing_rows, :, missing_columns] * 5), 4
        )
        del draws
        applicable = levels != NOT_APPLICABLE  # a criterion not applicable weighs nothing
        weights = np.where(applicable, self.weights, 0).astype(np.float32)
        net, grade, _near = self.score_levels(drawn, weights, factors, alphas)
        if keep_levels:
            return net, grade, drawn
        return net, grade

    def score_levels(self, drawn, weights, factors, alphas):
        """§4 on levels [projects, K, criteria] with weights [projects, criteria] (0: the
        criterion leaves its dimension): net scores and grade indexes [projects, K], and where
        a score or a risk value lies within 10⁻⁹ of a boundary (float rounding could put it on
        either side: the exact engine decides those)."""
        # Each project's weighted sum per dimension: one batched product.
        sums = np.matmul(drawn, weights[:, :, None] * self.membership[None, :, :])
        totals = (weights @ self.membership).astype(np.float64)  # [projects, dimensions]
        has = totals > 0
        # A dimension's value is 100 · its weighted sum ÷ (4 · its applicable weight); a dimension
        # with nothing applicable: an impact drops out of the mean, a risk is 0.
        scale = np.where(has, 100 / (4 * np.where(has, totals, 1)), 0.0)
        impact_count = len(self.impact)
        weighted = self.impact_weights[None, :] * factors  # [K, impact dimensions]
        impact = np.einsum("mkd,md,kd->mk", sums[:, :, :impact_count], scale[:, :impact_count], weighted)
        impact /= has[:, :impact_count].astype(np.float64) @ weighted.T
        risks = sums[:, :, impact_count:] * scale[:, None, impact_count:]
        net = impact
        for column in range(risks.shape[2]):
            net *= 1 - alphas[None, :] * risks[:, :, column] / 100

        # A score on a boundary reaches it (40 is a C), whatever the last bit of float rounding:
        # exact scores that differ from a boundary differ by far more than TOLERANCE. Each
        # comparison is a pass of its own over [projects, K]: numpy reduces a short last axis
        # (the 4 boundaries, the risk criteria) several times slower than this.
        grade = np.zeros(net.shape, dtype=np.int64)
        near = np.zeros(net.shape, dtype=bool)
        for minimum in self.grade_minimums:
            grade += net < minimum - TOLERANCE
            near |= np.abs(net - minimum) < 10 * TOLERANCE
        # A criterion that weighs nothing is 0 here (not applicable, or left out), so never severe.
        top = drawn[:, :, self.risk_list[0]].copy()
        for column in self.risk_list[1:]:
            np.maximum(top, drawn[:, :, column], out=top)
        severe = top >= self.severe
        high = severe.copy()
        for column in range(risks.shape[2]):
            high |= risks[:, :, column] >= self.high_from - TOLERANCE
            near |= np.abs(risks[:, :, column] - self.high_from) < 10 * TOLERANCE
        grade = np.where(high, np.maximum(grade, self.cap_high), grade)
        grade = np.where(severe, np.maximum(grade, self.cap_severe), grade)
        return net, grade, near


def uncertainty(
    method: Method,
    encoded: Encoded,
    official_grades: Sequence[str],
    *,
    scenarios: int = SCENARIOS,
    seed: int = SEED,
    weight_spread: float = WEIGHT_SPREAD,
    alpha_range: tuple[float, float] = ALPHA_RANGE,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> Figures:
    """§8 for every project of ``encoded`` (the rated published projects, in a fixed order),
    given each one's official grade. ``progress(done, total)`` is called as chunks finish (two
    passes: scores, then ranks). ``threads`` (default: one per core, at most 4) share the chunks:
    numpy works outside the GIL, and each chunk has its own random stream, so the figures are
    the same whatever the number of threads."""
    threads = threads or min(os.cpu_count() or 1, 4)
    model = _Model(method, weight_spread, alpha_range)
    count = len(encoded.levels)
    factors, alphas = model.shared(scenarios, seed)
    grade_count = len(model.grade_names)
    official = np.array([model.grade_names.index(grade) for grade in official_grades], dtype=np.int64)
    nets = np.empty((scenarios, count), dtype=np.float32)  # net scores, then ranks, per scenario
    net_figures = np.empty((count, 3))
    grade_shares = np.empty((count, grade_count))
    chunks = math.ceil(count / CHUNK)
    steps = 2 * chunks + 1  # the scores of each chunk, the ranks, each chunk's rank figures
    done = 0
    picks = [position(q, scenarios) for q in QUANTILES]

    def scores(number: int) -> None:  # each chunk writes its own rows and columns only
        start, stop = number * CHUNK, min((number + 1) * CHUNK, count)
        generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1, number])))
        net, grade = model.nets_and_grades(
            encoded.levels[start:stop], encoded.moves[start:stop], factors, alphas, generator
        )
        ordered = np.sort(net, axis=1)
        net_figures[start:stop] = ordered[:, picks]
        for index in range(grade_count):
            grade_shares[start:stop, index] = (grade == index).mean(axis=1)
        nets[:, start:stop] = net.T

    def ranks(first: int, last: int) -> None:
        # 1 + the number of projects with a strictly greater net score, scenario by scenario.
        for row in nets[first:last]:
            ordered = np.sort(row)
            row[:] = count + 1 - np.searchsorted(ordered, row, side="right")

    rank_figures = np.empty((count, 3), dtype=np.int32)
    top = np.empty(count)

    def rank_figures_of(number: int) -> None:
        start, stop = number * CHUNK, min((number + 1) * CHUNK, count)
        ordered = np.sort(nets[:, start:stop].T, axis=1)
        rank_figures[start:stop] = ordered[:, picks]
        top[start:stop] = (ordered <= TOP).mean(axis=1)

    with one_blas_thread(), ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(scores, range(chunks)):
            done += 1
            if progress:
                progress(done, steps)
        share = math.ceil(scenarios / threads)
        list(pool.map(lambda first: ranks(first, first + share), range(0, scenarios, share)))
        done += 1
        if progress:
            progress(done, steps)
        for _ in pool.map(rank_figures_of, range(chunks)):
            done += 1
            if progress:
                progress(done, steps)

    stable = grade_shares[np.arange(count), official] >= 0.9 if count else np.zeros(0, dtype=bool)
    return Figures(
        net=net_figures,
        grades=grade_shares,
        grade_names=model.grade_names,
        rank=rank_figures,
        top10=top,
        stable=stable,
        scenarios=scenarios,
        seed=seed,
    )


def order_statistic_error(scenarios: int, q: float, z: float = 2.576) -> int:
    """How many places either side of the q-quantile's position the true quantile lies with 99%
    confidence (the binomial interval of an order statistic): the Monte Carlo error of ``net`` and
    ``rank`` figures, in positions of the sorted scenarios."""
    return math.ceil(z * math.sqrt(scenarios * q * (1 - q)))


@dataclass(frozen=True)
class ScreenedChanges:
    """§10 for one project from the float screen. ``changes``: those the floats decide (code,
    from, to, net rounded to one decimal, grade, order key). ``ask``: the changes the floats
    cannot decide (a score or risk near a boundary, a net near a rounding point), for the exact
    engine. ``exact``: the order itself is unsure (two moves near a tie): the exact engine
    decides every candidate in ``ask``. ``merge_changes`` puts the two together in order."""

    changes: tuple[tuple[str, int, int, float, str, int], ...] = ()
    ask: tuple[tuple[str, int, int], ...] = ()
    exact: bool = False


NO_CHANGES = ScreenedChanges()

ROUNDING_MARGIN = 1e-6  # a float this close to a rounding point (x.x5) is left to the exact engine
# Moves of the net score are compared on this scale for the order: exact ties give floats within
# 10⁻⁷ of each other here, and no exact move lands on a rounding point (the scale is irrational).
ORDER_SCALE = 1e6 * math.sqrt(2)
ORDER_MARGIN = 1e-3


def _near_half(value, margin: float = ROUNDING_MARGIN):
    """Whether ``value`` lies within ``margin`` of a point where rounding changes (k + 0.5)."""
    return np.abs(np.asarray(value) % 1 - 0.5) < margin


def move_keys(moves):
    """The order of moves of the net score (larger first) as integers, for one move or an array
    of them in the array's own precision: (too near a rounding point of ORDER_SCALE to tell,
    −round(|move| · ORDER_SCALE))."""
    scaled = np.abs(np.asarray(moves)) * ORDER_SCALE
    return _near_half(scaled, ORDER_MARGIN), -np.floor(scaled + 0.5)


def order_key(grade_index: int, move: float) -> tuple[int, int] | None:
    """The exact engine's order (better grades first, then the larger move of the net score)
    as integers; None when the move is too near a rounding point of ORDER_SCALE to tell."""
    tied, key = move_keys(move)
    return None if tied else (grade_index, int(key))


def grade_changes_screened(
    method: Method, encoded: Encoded, official_grades: Sequence[str]
) -> list[ScreenedChanges]:
    """§10 for all projects at once: what the float screen can decide is decided here (a grade
    away from boundaries, as in ``score_levels``; a net rounded half up, away from rounding
    points); the rest is marked for the exact engine. With ``merge_changes`` a property test
    holds the result equal to ``projects.scoring.grade_changes``, order included, for every
    project."""
    model = _Model(method, 0.0, (float(method.alpha), float(method.alpha)))
    codes = [criterion.code for criterion in method.criteria]
    width = len(codes)
    official = np.array([model.grade_names.index(grade) for grade in official_grades], dtype=np.int64)
    # Variant 0 is the project as it is; variant 2c + 1 is criterion c one level down, 2c + 2 up.
    positions = np.repeat(np.arange(width), 2)
    steps = np.tile(np.array([-1, 1], dtype=np.int8), width)
    variants = len(positions) + 1
    factors = np.ones((variants, len(model.impact)))
    alphas = np.full(variants, float(method.alpha))
    results: list[ScreenedChanges] = []
    with one_blas_thread():
        for start in range(0, len(encoded.levels), CHUNK):
            levels = encoded.levels[start : start + CHUNK]
            assessed = levels >= 0
            weights = np.where(assessed, model.weights, 0).astype(np.float32)
            base = np.where(assessed, levels, 0).astype(np.float32)
            drawn = np.repeat(base[:, None, :], variants, axis=1)
            moved = base[:, positions] + steps[None, :]  # [projects, variants − 1]
            valid = assessed[:, positions] & (moved >= 0) & (moved <= 4)
            drawn[:, np.arange(1, variants), positions] = np.clip(moved, 0, 4)
            net, grade, near = model.score_levels(drawn, weights, factors, alphas)
            own_net, net, grade, near = net[:, 0], net[:, 1:], grade[:, 1:], near[:, 1:]
            changes = valid & (grade != official[start : start + CHUNK, None])
            unsure = valid & (near | (changes & _near_half(net * 10)))
            listed = (changes | unsure).any(axis=1)
            # order_key and the rounding of every variant at once (the same float operations).
            tied, keys = move_keys(net - own_net[:, None])
            rounded = np.floor(net * 10 + 0.5) / 10
            for row in range(len(levels)):
                if not listed[row]:  # no change of grade, nothing unsure: most projects
                    results.append(NO_CHANGES)
                    continue

                def change(v: int, row: int = row, base=base, moved=moved) -> tuple[str, int, int]:
                    return codes[positions[v]], int(base[row, positions[v]]), int(moved[row, v])

                decided, exact = [], False
                for v in np.flatnonzero(changes[row] & ~unsure[row]):
                    if tied[row, v]:  # order_key would be None
                        exact = True
                        break
                    decided.append(
                        (
                            *change(v),
                            float(rounded[row, v]),
                            model.grade_names[grade[row, v]],
                            int(keys[row, v]),
                        )
                    )
                if exact:
                    asked = np.flatnonzero(valid[row] & (changes[row] | near[row]))
                    results.append(ScreenedChanges(ask=tuple(change(v) for v in asked), exact=True))
                else:
                    asked = np.flatnonzero(unsure[row])
                    decided.sort(
                        key=lambda c: (model.grade_names.index(c[4]), c[5], c[0], c[2])
                    )  # the exact order
                    results.append(
                        ScreenedChanges(changes=tuple(decided), ask=tuple(change(v) for v in asked))
                    )
    return results


def merge_changes(
    screened: ScreenedChanges,
    exact: Sequence[tuple[str, int, int, float, str, float]],
    grade_names: Sequence[str],
) -> list[tuple[str, int, int, float, str]] | None:
    """A project's §10 in the exact engine's order: the screen's decisions and ``exact``, the
    exact engine's on ``screened.ask`` (code, from, to, rounded net, grade, exact move of the
    net). None when the order cannot be told in floats: then the exact engine's list is the
    answer."""
    keyed = [change for change in screened.changes]
    for code, level_from, level_to, net, grade, move in exact:
        key = order_key(grade_names.index(grade), move)
        if key is None:
            return None
        keyed.append((code, level_from, level_to, net, grade, key[1]))
    keyed.sort(key=lambda c: (grade_names.index(c[4]), c[5], c[0], c[2]))
    return [change[:5] for change in keyed]


def decide_changes(
    method: Method, ratings: Sequence[Rating], screened: ScreenedChanges
) -> list[tuple[str, int, int, float, str]]:
    """A project's §10 (code, from, to, net rounded to one decimal, grade), in order: the
    screen's decisions, completed by the exact engine where the screen asks."""
    from .engine import grade_changes_among, round_half_up, score

    def listed(found) -> list[tuple[str, int, int, float, str]]:
        return [(c.code, c.level_from, c.level_to, round_half_up(c.net, 1), c.grade) for c in found]

    if not screened.ask and not screened.exact:
        return [change[:5] for change in screened.changes]
    card = score(method, ratings)
    if screened.exact:
        return listed(grade_changes_among(method, ratings, screened.ask, card))
    found = grade_changes_among(method, ratings, screened.ask, card)
    names = [grade for grade, _ in method.grade_bands]
    exact = [(*change, float(c.net - card.net)) for change, c in zip(listed(found), found, strict=True)]
    merged = merge_changes(screened, exact, names)
    if merged is not None:
        return merged
    every = screened.ask + tuple(change[:3] for change in screened.changes)
    return listed(grade_changes_among(method, ratings, every, card))
