"""Rankings under a reader's own dimension weights and α (the method's §9), at 100,000 projects.

A dimension profile needs no ratings: each rated published project's five dimension values are
stored with the uncertainty run (``ProjectUncertainty.value_*``) and kept here per site
generation as arrays (the *basis*). A ranking computes every project's net score under the
profile in floats, and the engine (``scoring.score_values``) decides exactly the few a float
could round the wrong way and every row of the page shown: ranks, nets and grades served are
the engine's (docs/scoring.md, "Your own weights").
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from django.core.cache import cache
from django.db import router

from projects import scoring
from projects.freshness import site_generation
from projects.models import Methodology, Project, ProjectUncertainty, UncertaintyRun
from projects.selectors import published_methodologies

from .scoring import method_spec
from .uncertainty import RATING_TEXTS, RATINGS, _ratings_of

# Floats of a net score err by less than 1e-12 (values ≤ 100, a handful of operations): one
# within NEAR (in tenths) of a rounding boundary is decided exactly.
NEAR = 1e-7
_CACHE_SECONDS = 3600


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


_kept: dict[str, Basis] = {}  # per database: the last basis this process read


def ranking_basis(using: str | None = None) -> Basis | None:
    """The basis of the current site generation: from this process, else the shared cache, else
    read (two queries, and the ratings of any project published since the last uncertainty run).
    None without a published method."""
    using = using or router.db_for_read(Project)
    current = site_generation(using=using)
    # The moment too: a database restored from a backup (or a test's) may repeat a number.
    generation = (current.number, current.changed_at.isoformat())
    kept = _kept.get(using)
    if kept is not None and kept.generation == generation:
        return kept
    key = f"profiles:basis:{using}:{generation[0]}:{generation[1]}"
    basis = cache.get(key)
    if basis is None:
        basis = _read_basis(using, generation)
        if basis is None:
            return None
        cache.set(key, basis, _CACHE_SECONDS)
    _kept[using] = basis
    return basis


def _read_basis(using: str, generation: tuple[int, str]) -> Basis | None:
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
        card = scoring.score(specs[methodology_id], _ratings_of(own, repeated))
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
        self._exact: dict[tuple, scoring.ProfileScore | None] = {}
        chosen = np.ones(len(basis.ids), dtype=bool)
        if selected is not None:
            chosen = np.isin(basis.ids, np.fromiter(selected, dtype=np.int64))
        nets = self._float_nets()
        self.rows = np.flatnonzero(chosen & ~np.isnan(nets))  # basis rows ranked, in name order
        # Tenths of the served net: floor(10·net + 1/2), exactly where a float is in doubt.
        scaled = nets[self.rows] * 10 + 0.5
        self.tenths = np.floor(scaled)
        for position in np.flatnonzero(np.abs(scaled - np.round(scaled)) < NEAR).tolist():
            self.tenths[position] = round(scoring.round_half_up(self.exact(self.rows[position]).net, 1) * 10)
        self.order = np.argsort(-self.tenths, kind="stable")  # ties stay in name order
        self.tenths_sorted = np.sort(self.tenths)
        self.official_sorted = np.sort(basis.official[self.rows])

    def _float_nets(self) -> np.ndarray:
        """Each project's net score under the profile in floats: NaN where no dimension it has
        is weighted."""
        weights = np.array(
            [
                float(self.profile.dimensions.get(d.key, 0)) if d.kind == "impact" else 0.0
                for d in self.spec.dimensions
            ]
        )
        values = self.basis.values
        counted = ~np.isnan(values) & (weights > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            net = np.where(counted, values * weights, 0).sum(axis=1) / np.where(counted, weights, 0).sum(
                axis=1
            )
        alpha = float(self.profile.alpha)
        for index, dimension in enumerate(self.spec.dimensions):
            if dimension.kind == "risk":
                net = net * (1 - alpha * values[:, index] / 100)
        return net

    def __len__(self) -> int:
        return len(self.rows)

    def count(self) -> int:
        return len(self)

    def exact(self, row: int) -> scoring.ProfileScore:
        """The engine's exact score of a basis row (computed once per distinct set of values)."""
        values, severe = self.basis.values[row], self.basis.severe[row]
        key = (*values.tolist(), *severe.tolist())
        if key not in self._exact:
            self._exact[key] = scoring.score_values(
                self.spec,
                self.profile,
                {
                    name: None if np.isnan(value) else _exact_value(self.spec, name, float(value))
                    for name, value in zip(self.basis.keys, values, strict=True)
                },
                dict(zip(self.basis.keys, severe.tolist(), strict=True)),
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
        row = self.rows[position]
        exact = self.exact(row)
        return RankedProject(
            project_id=int(self.basis.ids[row]),
            rank=_rank(self.tenths_sorted, self.tenths[position]),
            official_rank=_rank(self.official_sorted, self.basis.official[row]),
            net=exact.net,
            grade=exact.grade,
            grade_cap=exact.grade_cap,
        )


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


def _rank(ascending: np.ndarray, value: float) -> int:
    """1 + how many of ``ascending`` are above ``value``: ties share a rank."""
    return len(ascending) - int(np.searchsorted(ascending, value, side="right")) + 1


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
