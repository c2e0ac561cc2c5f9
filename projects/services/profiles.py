"""Rankings under a reader's own dimension weights and α (the method's §9), at 100,000 projects.

A dimension profile needs no ratings: each rated published project's five dimension values are
stored with the uncertainty run (``ProjectUncertainty.value_*``) and kept here per site
generation as arrays (the *basis*). A ranking computes every project's net score under the
profile in floats, and the engine (``scoring.score_values``) decides exactly the few a float
could round the wrong way and every row of the page shown: ranks, nets and grades served are
the engine's (docs/scoring.md, "Your own weights").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from django.db import router

from projects import scoring
from projects.freshness import site_generation
from projects.models import Methodology, Project, ProjectUncertainty, UncertaintyRun
from projects.selectors import published_methodologies

from .scoring import method_spec
from .uncertainty import RATING_TEXTS, RATINGS, ratings_from_texts

# Floats of a net score err by less than 1e-12 (values ≤ 100, a handful of operations): one
# within NEAR (in tenths) of a rounding boundary is decided exactly.
NEAR = 1e-7


@dataclass(frozen=True)
class Basis:
    """Every rated published project as the rankings read it, in name order (ties by slug)."""

    generation: tuple[int, str]  # the site generation's number and moment
    spec: scoring.Method  # the current method's
    keys: tuple[str, ...]  # the dimensions, in the method's order
    ids: np.ndarray  # int64 [projects]: project ids
    values: np.ndarray  # float64 [projects, dimensions]; NaN: an impact dimension with nothing applicable
    severe: np.ndarray  # bool [projects, dimensions]: a risk dimension with a severe rating
    official: np.ndarray  # float64 [projects]: the published net score (the official ranking's)
    # Derived once, for every ranking of the generation:
    filled: np.ndarray = field(init=False)  # values with NaN as 0 (float64)
    applies: np.ndarray = field(init=False)  # 1.0 where a value is not NaN (float64)
    official_tenths: np.ndarray = field(init=False)  # int64: the published net in tenths
    # The values as whole numbers over scoring.value_scale (exact: see exact_value), -1 for NaN.
    integers: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        missing = np.isnan(self.values)
        object.__setattr__(self, "filled", np.where(missing, 0.0, self.values))
        object.__setattr__(self, "applies", (~missing).astype(np.float64))
        object.__setattr__(self, "official_tenths", np.rint(self.official * 10).astype(np.int64))
        scaled = np.rint(self.filled * scoring.value_scale(self.spec)).astype(np.int64)
        object.__setattr__(self, "integers", np.where(missing, -1, scaled))


# Projects published since the last uncertainty run are scored from their ratings when a basis
# is read; more than this (a method release's republications, until the run that follows it
# is done) would make a request of many seconds: the rankings wait for the run instead.
MAX_SCORED_IN_REQUEST = 5000


class RankingUnavailable(Exception):
    """Too many projects were published since the last uncertainty run to rank under your own
    weights now (a method release's republications); the run queued after them fixes it."""

    def __init__(self, waiting: int):
        super().__init__(f"{waiting} projects wait for their uncertainty figures")
        self.waiting = waiting


@dataclass(frozen=True)
class Waiting:
    """A generation whose basis waits for the uncertainty run (kept like a basis)."""

    generation: tuple[int, str]
    projects: int


_kept: dict[str, Basis | Waiting] = {}  # per database: the last basis this process read


def ranking_basis(using: str | None = None) -> Basis | None:
    """The basis of the current site generation: as this process last read it, else read (two
    queries, and the ratings of any project published since the last uncertainty run).
    None without a published method; RankingUnavailable while more than MAX_SCORED_IN_REQUEST
    projects wait for the run."""
    using = using or router.db_for_read(Project)
    current = site_generation(using=using)
    # The moment too: a database restored from a backup (or a test's) may repeat a number.
    generation = (current.number, current.changed_at.isoformat())
    basis = _kept.get(using)
    if basis is None or basis.generation != generation:
        # Read by each process for itself: a shared cache would hold 6 MB a generation (with
        # the local-memory cache, hundreds of generations' worth until culled).
        basis = _read_basis(using, generation)
        if basis is None:
            return None
        _kept[using] = basis
    if isinstance(basis, Waiting):
        raise RankingUnavailable(basis.projects)
    return basis


def _read_basis(using: str, generation: tuple[int, str]) -> Basis | Waiting | None:
    methodology = published_methodologies().using(using).first()
    if methodology is None:
        return None
    spec = method_spec(methodology)
    keys = tuple(dimension.key for dimension in spec.dimensions)
    projects = list(
        Project.objects.using(using)
        .published()
        .filter(published_net__isnull=False)
        .order_by("name", "slug")
        .values_list(
            "pk",
            "publication_id",
            "published_net",
            *(f"published_score__{key}_severe" for key in keys if _risk(spec, key)),
        )
    )
    stored = {
        project: (publication, values)
        for project, publication, *values in ProjectUncertainty.objects.using(using)
        .filter(run__state=UncertaintyRun.State.DONE)
        .values_list("project_id", "publication_id", *(f"value_{key}" for key in keys))
    }
    count = len(projects)
    ids = np.fromiter((row[0] for row in projects), dtype=np.int64, count=count)
    official = np.fromiter((row[2] for row in projects), dtype=np.float64, count=count)
    values = np.full((count, len(keys)), np.nan)
    severe = np.zeros((count, len(keys)), dtype=bool)
    risk_columns = [index for index, key in enumerate(keys) if _risk(spec, key)]
    missing = {}
    for index, (pk, publication, _net, *flags) in enumerate(projects):
        severe[index, risk_columns] = flags
        found = stored.get(pk)
        if found is not None and found[0] == publication:
            values[index] = [np.nan if value is None else value for value in found[1]]
        else:
            missing[pk] = index
    if len(missing) > MAX_SCORED_IN_REQUEST:
        return Waiting(generation, len(missing))
    if missing:
        _values_from_ratings(using, missing, keys, values)
    return Basis(generation, spec, keys, ids, values, severe, official)


def _risk(spec: scoring.Method, key: str) -> bool:
    return next(d.kind for d in spec.dimensions if d.key == key) == "risk"


def _values_from_ratings(
    using: str, missing: dict[int, int], keys: tuple[str, ...], values: np.ndarray
) -> None:
    """The dimension values of projects published since the last uncertainty run (or with none
    yet), scored from their published ratings under their publication's method."""
    rows = (
        Project.objects.using(using)
        .filter(pk__in=list(missing))
        .annotate(**RATING_TEXTS)
        .values_list("pk", "publication__methodology_id", *RATINGS)
    )
    specs: dict[int, scoring.Method] = {}
    for pk, methodology_id, own, repeated in rows.iterator(chunk_size=2000):
        if methodology_id not in specs:
            specs[methodology_id] = method_spec(Methodology.objects.using(using).get(pk=methodology_id))
        card = scoring.score(specs[methodology_id], ratings_from_texts(own, repeated))
        dimensions = card.dimensions
        values[missing[pk]] = [
            float(dimensions[key].value)
            if key in dimensions and dimensions[key].value is not None
            else np.nan
            for key in keys
        ]


@dataclass(frozen=True)
class RankedProject:
    project_id: int
    rank: int  # 1 + the projects with a higher net score under the profile (ties share a rank)
    official_rank: int  # the same by the published net score, among the same projects
    net: Fraction
    grade: str
    grade_cap: str | None

    @property
    def movement(self) -> int:
        """Places gained against the official ranking (negative: lost)."""
        return self.official_rank - self.rank


class ProfileRanking:
    """The rated published projects (of ``selected``, if given: project ids) ranked under a
    dimension profile, as a sequence a paginator slices: ``len`` is the number ranked, a slice
    is scored when taken.

    As the official ranking: by the net score as served (one decimal, halves up), highest
    first; ties share a rank and are listed by name, then slug. Each project's served net is
    computed in floats, and decided exactly by the engine where a float could round it the
    other way (within ``NEAR`` of a half tenth), so the order and ranks are the engine's."""

    def __init__(self, basis: Basis, profile: scoring.Profile, selected=None):
        if profile.criteria:
            raise ValueError("a profile with criterion weights is ranked from the ratings")
        self.basis, self.spec, self.profile = basis, basis.spec, profile
        self.weighted = profile.method(basis.spec)  # built once for every project scored
        self.tenths_of = scoring.profile_tenths(basis.spec, profile)
        self._exact: dict[tuple, scoring.ProfileScore | None] = {}
        nets = self._float_nets()
        ranked = ~np.isnan(nets)
        if selected is not None:
            ranked &= np.isin(basis.ids, np.fromiter(selected, dtype=np.int64))
        self.rows = np.flatnonzero(ranked)  # basis rows ranked, in name order
        # Tenths of the served net: floor(10·net + 1/2), exactly where a float is in doubt.
        scaled = nets[self.rows] * 10 + 0.5
        tenths = np.floor(scaled).astype(np.int64)
        for position in np.flatnonzero(np.abs(scaled - np.rint(scaled)) < NEAR).tolist():
            tenths[position] = self._exact_tenths(int(self.rows[position]))
        self.tenths = tenths
        # Highest first, ties in name order: a stable sort of small integers (a radix sort).
        self.order = np.argsort((tenths.max(initial=0) - tenths).astype(np.int16), kind="stable")
        self.above = _above(tenths)
        self.official_above = _above(basis.official_tenths[self.rows])

    def _float_nets(self) -> np.ndarray:
        """Each project's net score under the profile in floats: NaN where no dimension it has
        is weighted. Column by column, not a matrix product: BLAS's threads in two web workers
        on two cores spun against each other (a third of the throughput at 100,000 projects)."""
        count = len(self.basis.ids)
        total, weights = np.zeros(count), np.zeros(count)
        for index, dimension in enumerate(self.spec.dimensions):
            weight = (
                float(self.profile.dimensions.get(dimension.key, 0)) if dimension.kind == "impact" else 0.0
            )
            if weight > 0:
                total += weight * self.basis.filled[:, index]
                weights += weight * self.basis.applies[:, index]
        with np.errstate(invalid="ignore", divide="ignore"):
            net = total / weights
        alpha = float(self.profile.alpha)
        for index, dimension in enumerate(self.spec.dimensions):
            if dimension.kind == "risk":
                net *= 1 - alpha * self.basis.filled[:, index] / 100
        return net

    def _exact_values(self, row: int) -> list[Fraction | None]:
        return [
            None if value != value else _exact_value(self.spec, name, value)  # NaN: not applicable
            for name, value in zip(self.basis.keys, self.basis.values[row].tolist(), strict=True)
        ]

    def _exact_tenths(self, row: int) -> int:
        """A project's served net in tenths, decided exactly by the engine (in integers)."""
        tenths = self.tenths_of([None if value < 0 else value for value in self.basis.integers[row].tolist()])
        assert tenths is not None  # its float net is a number: some weighted dimension applies
        return tenths

    def __len__(self) -> int:
        return len(self.rows)

    def count(self) -> int:
        return len(self)

    def exact(self, row: int) -> scoring.ProfileScore:
        """The engine's exact score of a basis row (computed once per distinct set of values)."""
        key = (*self.basis.values[row].tolist(), *self.basis.severe[row].tolist())
        if key not in self._exact:
            self._exact[key] = scoring.score_values(
                self.spec,
                self.profile,
                dict(zip(self.basis.keys, self._exact_values(row), strict=True)),
                dict(zip(self.basis.keys, self.basis.severe[row].tolist(), strict=True)),
                self.weighted,
            )
        found = self._exact[key]
        assert found is not None  # its float net is a number: some weighted dimension applies
        return found

    def __getitem__(self, window: slice) -> list[RankedProject]:
        return [self._ranked(position) for position in self.order[window].tolist()]

    def project(self, project_id: int) -> RankedProject | None:
        """One project's place (None: not ranked under this profile, or not in the selection)."""
        found = np.flatnonzero(self.basis.ids == project_id)
        if not len(found):
            return None
        position = int(np.searchsorted(self.rows, found[0]))
        if position >= len(self.rows) or self.rows[position] != found[0]:
            return None
        return self._ranked(position)

    def _ranked(self, position: int) -> RankedProject:
        row = int(self.rows[position])
        exact = self.exact(row)
        return RankedProject(
            project_id=int(self.basis.ids[row]),
            rank=int(self.above[self.tenths[position]]) + 1,
            official_rank=int(self.official_above[self.basis.official_tenths[row]]) + 1,
            net=exact.net,
            grade=exact.grade,
            grade_cap=exact.grade_cap,
        )


def _above(tenths: np.ndarray) -> np.ndarray:
    """For each number of tenths t, how many of ``tenths`` are above it (a rank is 1 + that:
    ties share a rank)."""
    counts = np.bincount(tenths, minlength=1)
    return counts[::-1].cumsum()[::-1] - counts


_exact_values: dict[tuple[str, str, float], Fraction] = {}


def _exact_value(spec: scoring.Method, key: str, value: float) -> Fraction:
    """``scoring.exact_value``, kept per process: a catalogue has a few hundred distinct values
    of each dimension, and finding one costs some 15 µs."""
    known = (spec.version, key, value)
    found = _exact_values.get(known)
    if found is None:
        if len(_exact_values) > 100_000:
            _exact_values.clear()
        found = _exact_values[known] = scoring.exact_value(spec, key, value)
    return found


def profile_ranking(
    profile: scoring.Profile, selected=None, using: str | None = None
) -> ProfileRanking | None:
    """The current ranking under ``profile`` (None without a published method)."""
    basis = ranking_basis(using)
    return None if basis is None else ProfileRanking(basis, profile, selected)


WEIGHTS_EXAMPLE = "sdg7:2,sdg9:1,sdg12:1"


def profile_from_query(spec: scoring.Method, weights: str | None, alpha: str | None) -> scoring.Profile:
    """A dimension profile from the API's query: ``weights`` as "sdg7:2,sdg9:1,sdg12:1" (a
    dimension left out weighs 0; without ``weights``, the method's), ``alpha`` a number from 0
    to 1 (without it, the method's). ProfileError names the parameter ("weights",
    "weights.sdg7", "alpha")."""
    official = scoring.Profile.official(spec)
    dimensions: dict[str, str] = dict(official.dimensions) if weights is None else {}
    if weights is not None:
        for part in weights.split(","):
            code, colon, value = part.partition(":")
            code = code.strip()
            if not colon or not code or not value.strip():
                raise scoring.ProfileError(
                    "weights", f"give dimension:weight pairs separated by commas, as {WEIGHTS_EXAMPLE}"
                )
            if code in dimensions:
                raise scoring.ProfileError(f"weights.{code[:20]}", "give each dimension once")
            dimensions[code[:20]] = value
    try:
        return scoring.Profile.from_values(
            spec, dimensions=dimensions, alpha=official.alpha if alpha is None else alpha
        )
    except scoring.ProfileError as error:
        field = error.field.replace("dimensions", "weights", 1)
        raise scoring.ProfileError(field, error.message) from None
