"""Weighting profiles an API key keeps (the method's §9): checked by the engine on every write,
ranked on request when they hold dimension weights and α only (projects.services.profiles), and
computed in the background and stored when they hold criterion weights, which change every
project's dimension values and so need its ratings.

A profile belongs to one key and only that key reads or changes it; profiles are not the public
record (no review, no publication) and change nothing anyone else sees.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from projects import scoring
from projects.models import ApiKey, ProfileResult, Project, Publication, WeightingProfile
from projects.models.profiles import MAX_PROFILES_PER_KEY, MAX_STORED_PROFILES_PER_KEY
from projects.selectors import methodology_current

from .bulk import insert_rows
from .errors import Conflict, InvalidInput
from .profiles import ProfileRanking, ranking_basis
from .scoring import method_spec
from .uncertainty import RATING_TEXTS, RATINGS, ratings_from_texts

FIELDS = ("name", "dimensions", "alpha", "criteria")


class TooManyProfiles(Conflict):
    code = "too_many_profiles"

    def __init__(
        self, message: str = f"This key keeps {MAX_PROFILES_PER_KEY} profiles already: delete one first."
    ):
        super().__init__(message)


def _check_room(api_key: ApiKey, clean: dict, replacing: WeightingProfile | None = None) -> None:
    """At most MAX_PROFILES_PER_KEY profiles a key, of which MAX_STORED_PROFILES_PER_KEY with
    criterion weights (each a computation over every project after each change of the data)."""
    others = WeightingProfile.objects.filter(api_key=api_key)
    if replacing is not None:
        others = others.exclude(pk=replacing.pk)
    elif others.count() >= MAX_PROFILES_PER_KEY:
        raise TooManyProfiles()
    if clean["criteria"] and others.exclude(criteria={}).count() >= MAX_STORED_PROFILES_PER_KEY:
        raise TooManyProfiles(
            f"This key keeps {MAX_STORED_PROFILES_PER_KEY} profiles with criterion weights already (each is "
            "computed over every project after each change of the data): delete one, or leave criteria out."
        )


def _spec() -> scoring.Method:
    methodology = methodology_current()
    if methodology is None:
        raise InvalidInput.of("non_field_errors", "No method is published yet: there is nothing to weight.")
    return method_spec(methodology)


def profile_clean(body: Any) -> dict:
    """A profile's fields from a request body, checked: InvalidInput names each field that is
    wrong (``dimensions.sdg7``, ``criteria.S7.1``, ``alpha``, ``name``). Numbers are kept as the
    exact decimals written (0.1 stays 1/10)."""
    if not isinstance(body, dict):
        raise InvalidInput.of(
            "non_field_errors", "Send a JSON object with name, dimensions, alpha and criteria."
        )
    errors: dict[str, list[str]] = {}
    for key in body:
        if key not in FIELDS:
            errors[str(key)[:40]] = [f"Unknown field; give {', '.join(FIELDS)}."]
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["Give the profile a name."]
    elif len(name.strip()) > 100:
        errors["name"] = ["At most 100 characters."]
    dimensions = body.get("dimensions")
    if not isinstance(dimensions, dict) or not dimensions:
        errors["dimensions"] = [
            'Give the dimension weights as an object, as {"sdg7": 2, "sdg9": 1, "sdg12": 1}.'
        ]
    criteria = body.get("criteria", {})
    if criteria is None:
        criteria = {}
    if not isinstance(criteria, dict):
        errors["criteria"] = ['Give the criterion weights as an object, as {"S7.1": 5}, or leave them out.']
    if errors:
        raise InvalidInput(errors)
    spec = _spec()
    alpha = body.get("alpha", scoring.Profile.official(spec).alpha)
    try:
        profile = scoring.Profile.from_values(spec, dimensions=dimensions, alpha=alpha, criteria=criteria)
    except scoring.ProfileError as error:
        raise InvalidInput.of(error.field, error.message) from None
    return {
        "name": name.strip(),
        "dimensions": {key: _decimal_text(value) for key, value in profile.dimensions.items()},
        "alpha": _decimal_text(profile.alpha),
        "criteria": dict(sorted(profile.criteria.items())),
    }


def _decimal_text(value) -> str:
    """An exact rational as the decimal it was written as (the engine read a finite decimal)."""
    exact = Decimal(int(value.numerator)) / Decimal(int(value.denominator))
    return format(exact.normalize(), "f")


def engine_profile(profile: WeightingProfile) -> scoring.Profile:
    """The stored profile as the engine takes it."""
    return scoring.Profile.from_values(
        _spec(), dimensions=profile.dimensions, alpha=profile.alpha, criteria=profile.criteria
    )


def profile_create(api_key: ApiKey, body: Any) -> WeightingProfile:
    clean = profile_clean(body)
    with transaction.atomic():
        # The key's row locked: two creates at once cannot pass the limit together.
        ApiKey.objects.select_for_update().filter(pk=api_key.pk).first()
        _check_room(api_key, clean)
        profile = WeightingProfile.objects.create(api_key=api_key, **clean)
    _after_change(profile)
    return profile


def profile_replace(profile: WeightingProfile, body: Any, *, version: int) -> WeightingProfile:
    """Replace every field; ``version``: the one the client read (a stale write is refused)."""
    clean = profile_clean(body)
    with transaction.atomic():
        ApiKey.objects.select_for_update().filter(pk=profile.api_key_id).first()
        _check_room(profile.api_key, clean, replacing=profile)
        updated = WeightingProfile.objects.filter(pk=profile.pk, version=version).update(
            **clean, version=F("version") + 1, updated_at=timezone.now()
        )
        if not updated:
            raise StaleProfile()
    profile.refresh_from_db()
    _after_change(profile)
    return profile


class StaleProfile(Conflict):
    code = "stale"

    def __init__(self):
        super().__init__("The profile changed since you read it: read it again and repeat your change.")


def profile_delete(profile: WeightingProfile, *, version: int) -> None:
    deleted, _ = WeightingProfile.objects.filter(pk=profile.pk, version=version).delete()
    if not deleted:
        raise StaleProfile()


def _after_change(profile: WeightingProfile) -> None:
    """A profile with criterion weights: its ranking is computed in the background, after the
    write commits."""
    if profile.needs_ratings:
        from projects.tasks import profile_compute_enqueue

        transaction.on_commit(lambda: profile_compute_enqueue(profile.pk))


def data_version() -> int:
    """What a stored ranking is computed from, as one number: the newest publication. Every
    change of what is published (ratings, facts, a withdrawal, a method release's republications)
    is a publication; other public changes (a key revoked, the uncertainty figures) do not move
    a ranking."""
    return Publication.objects.aggregate(newest=Max("id"))["newest"] or 0


def is_current(profile: WeightingProfile, data: int | None = None) -> bool:
    """Whether a stored ranking is of this version of the profile and of the data as they are
    (``data``: ``data_version()``, when the caller has it)."""
    if not profile.needs_ratings:
        return True  # ranked on request, from the data as they are
    data = data_version() if data is None else data
    return profile.computed_version == profile.version and profile.computed_data == data


# --- a profile with criterion weights, computed in the background ------------------------------


def profile_compute(profile_id: int) -> int | None:
    """Compute and store the ranking of a profile with criterion weights: every published
    project's ratings scored under it by the engine; ranked as the official ranking (the net as
    served, ties share a rank). Returns the number ranked (None: the profile is gone or needs no
    computing). The ranking replaces the previous one whole, in one transaction."""
    profile = WeightingProfile.objects.filter(pk=profile_id).first()
    if profile is None or not profile.needs_ratings:
        return None
    data = data_version()
    if is_current(profile, data):  # a burst of saves queued several: the first did it
        return profile.computed_projects
    try:
        return _compute(profile, data)
    except Exception as error:
        WeightingProfile.objects.filter(pk=profile.pk).update(
            compute_error=f"{type(error).__name__}: {error}"
        )
        raise


def _compute(profile: WeightingProfile, data: int) -> int | None:
    version = profile.version
    weighted = engine_profile(profile)
    spec = _spec()
    under = weighted.method(spec)
    collecting = gc.isenabled()
    gc.disable()
    try:
        scored = []  # (tenths of the served net, project id, net, grade, cap, published net)
        rows = (
            Project.objects.published()
            .order_by("name", "slug")
            .annotate(**RATING_TEXTS)
            .values_list("pk", "published_net", *RATINGS)
        )
        for pk, published_net, own, repeated in rows.iterator(chunk_size=2000):
            ratings = weighted.ratings(ratings_from_texts(own, repeated))
            card = scoring.score(under, ratings)
            if card.net is None or card.grade is None:
                continue
            net = scoring.round_half_up(card.net, 1)
            scored.append((round(net * 10), pk, net, card.grade, card.grade_cap or "", published_net))
    finally:
        if collecting:
            gc.enable()
    # In name order already: a stable sort by the served net keeps ties by name.
    scored.sort(key=lambda item: -item[0])
    officials = sorted(item[5] for item in scored if item[5] is not None)
    result = []
    above = 0
    for index, (tenths, pk, net, grade, cap, published_net) in enumerate(scored):
        if index and tenths != scored[index - 1][0]:
            above = index
        official_rank = None if published_net is None else _official_rank(officials, published_net)
        result.append((profile.pk, pk, above + 1, official_rank, net, grade, cap))
    with transaction.atomic():
        still = WeightingProfile.objects.select_for_update().filter(pk=profile.pk, version=version).first()
        if still is None:  # changed or deleted meanwhile: its own computation follows
            return None
        ProfileResult.objects.filter(profile=profile).delete()
        insert_rows(
            ProfileResult,
            ("profile_id", "project_id", "rank", "official_rank", "net", "grade", "grade_cap"),
            result,
        )
        WeightingProfile.objects.filter(pk=profile.pk).update(
            computed_at=timezone.now(),
            computed_version=version,
            computed_data=data,
            computed_projects=len(result),
            compute_error="",
        )
    return len(result)


def _official_rank(ascending: list[float], value: float) -> int:
    from bisect import bisect_right

    return len(ascending) - bisect_right(ascending, value) + 1


def stale_profiles() -> list[int]:
    """Profiles with criterion weights whose stored ranking is not of the data as they are."""
    return list(
        WeightingProfile.objects.exclude(criteria={})
        .exclude(computed_data=data_version(), computed_version=F("version"))
        .values_list("pk", flat=True)
    )


# --- reading a profile's ranking -----------------------------------------------------------


@dataclass(frozen=True)
class RankedRow:
    project_id: int
    rank: int
    official_rank: int | None
    net: float  # as served
    grade: str
    grade_cap: str | None

    @property
    def movement(self) -> int | None:
        return None if self.official_rank is None else self.official_rank - self.rank


class StoredRanking:
    """A profile's stored ranking as a sequence a paginator slices: the projects still
    published (one withdrawn since is left out at once), by rank, then name."""

    def __init__(self, profile: WeightingProfile):
        self.results = (
            ProfileResult.objects.filter(profile=profile, project__state="published")
            .order_by("rank", "project__name", "project__slug")
            .values_list("project_id", "rank", "official_rank", "net", "grade", "grade_cap")
        )

    def count(self) -> int:
        return self.results.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[RankedRow]:
        return [
            RankedRow(pk, rank, official, net, grade, cap or None)
            for pk, rank, official, net, grade, cap in self.results[window]
        ]


class LiveRanking:
    """A dimension profile's ranking (projects.services.profiles) in the same rows."""

    def __init__(self, ranking: ProfileRanking):
        self.ranking = ranking

    def count(self) -> int:
        return len(self.ranking)

    def __len__(self) -> int:
        return len(self.ranking)

    def __getitem__(self, window: slice) -> list[RankedRow]:
        return [self.row(item) for item in self.ranking[window]]

    @staticmethod
    def row(item) -> RankedRow:
        net = scoring.round_half_up(item.net, 1)
        return RankedRow(item.project_id, item.rank, item.official_rank, net, item.grade, item.grade_cap)


def saved_ranking(profile: WeightingProfile) -> StoredRanking | LiveRanking | None:
    """A saved profile's ranking: computed now (dimension weights and α only) or as stored."""
    if profile.needs_ratings:
        return StoredRanking(profile)
    basis = ranking_basis()
    return None if basis is None else LiveRanking(ProfileRanking(basis, engine_profile(profile)))


def saved_project_score(profile: WeightingProfile, project_id: int) -> RankedRow | None:
    """One project's place and score in a saved profile's ranking (None: not ranked in it)."""
    ranking = saved_ranking(profile)
    if isinstance(ranking, StoredRanking):
        found = ranking.results.filter(project_id=project_id).first()
        return None if found is None else RankedRow(*found[:5], found[5] or None)
    if ranking is None:
        return None
    item = ranking.ranking.project(project_id)
    return None if item is None else LiveRanking(ranking.ranking).row(item)
