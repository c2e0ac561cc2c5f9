"""The scoring engine: a method plus a project's ratings in, a score card out.

Pure Python, no Django and no I/O, so that the same numbers come out of the admin, the API, the
importer, a background rescore or a notebook. Arithmetic is exact (rational numbers): every
weight, level and parameter of the method is rational, so grades, risk levels and confidence
labels are decided without floating-point error, and the same ratings give the same card on any
machine and any database. Only ``Card.as_dict`` rounds, for serving.

The rationals are gmpy2's ``mpq`` (GMP, in C) when it is installed, else the standard library's
``fractions.Fraction``: the same exact values either way (the tests run the engine with both),
``mpq`` much faster, which is what lets a large catalogue rescore in seconds (bench/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

try:
    from gmpy2 import mpq as Rational
except ImportError:  # pragma: no cover - the fallback is exercised by tests/scoring
    Rational = Fraction

IMPACT = "impact"
RISK = "risk"
RATED = "rated"
INSUFFICIENT_DATA = "insufficient_data"
LEVELS = range(0, 5)
MAX_LEVEL = 4

DimensionKind = Literal["impact", "risk"]


class MethodError(ValueError):
    """The method's own data is inconsistent (a bug in a method file, never a user's rating)."""


class RatingError(ValueError):
    """A rating the method cannot accept; ``code`` names the criterion, ``field`` the part."""

    def __init__(self, code: str, field_name: str, message: str):
        super().__init__(f"{code}: {field_name}: {message}")
        self.code = code
        self.field = field_name
        self.message = message


def _fraction(value: Any, what: str) -> Fraction:
    """Parse a method parameter ("1/3", "0.5", 20) exactly; floats are refused as inexact.

    Read with the standard library's grammar whatever the rational type, so that a method file
    reads the same with gmpy2 or without it."""
    if isinstance(value, bool | float):
        raise MethodError(f"{what}: give an exact number as a string or integer, not {value!r}")
    try:
        exact = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise MethodError(f"{what}: {value!r} is not a number") from None
    return Rational(exact.numerator, exact.denominator)


@dataclass(frozen=True)
class DimensionSpec:
    key: str
    kind: DimensionKind
    impact_weight: Fraction


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    dimension: str
    weight: int


@dataclass(frozen=True)
class Method:
    """Everything the engine needs from a methodology version, and nothing for display."""

    version: str
    dimensions: tuple[DimensionSpec, ...]
    criteria: tuple[CriterionSpec, ...]
    alpha: Fraction
    coverage_threshold: Fraction
    risk_bands: tuple[tuple[str, Fraction | None], ...]  # (level, exclusive upper bound)
    grade_bands: tuple[tuple[str, Fraction], ...]  # (grade, inclusive lower bound), best first
    cap_risk_level_high: str
    cap_severe_rating: str
    severe_rating: int
    evidence_quality: Mapping[str, Fraction]
    confidence_bands: tuple[tuple[str, Fraction], ...]  # (label, inclusive lower bound)
    criteria_by_code: Mapping[str, CriterionSpec] = field(init=False, repr=False, compare=False)
    criteria_by_dimension: Mapping[str, tuple[CriterionSpec, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria_by_code", {c.code: c for c in self.criteria})
        object.__setattr__(
            self,
            "criteria_by_dimension",
            {d.key: tuple(c for c in self.criteria if c.dimension == d.key) for d in self.dimensions},
        )
        self._check()

    def _check(self) -> None:
        keys = [d.key for d in self.dimensions]
        if len(set(keys)) != len(keys):
            raise MethodError("dimension keys must be unique")
        if len(self.criteria_by_code) != len(self.criteria):
            raise MethodError("criterion codes must be unique")
        for criterion in self.criteria:
            if criterion.dimension not in keys:
                raise MethodError(f"{criterion.code}: unknown dimension {criterion.dimension!r}")
            if isinstance(criterion.weight, bool) or not isinstance(criterion.weight, int):
                raise MethodError(f"{criterion.code}: weight must be an integer")
            if criterion.weight <= 0:
                raise MethodError(f"{criterion.code}: weight must be positive")
        if self.risk_bands[-1][1] is not None:
            raise MethodError("the last risk band must be open-ended")
        if self.grade_bands[-1][1] != 0 or self.confidence_bands[-1][1] != 0:
            raise MethodError("the last grade and confidence bands must start at 0")
        grades = [grade for grade, _ in self.grade_bands]
        for cap in (self.cap_risk_level_high, self.cap_severe_rating):
            if cap not in grades:
                raise MethodError(f"cap {cap!r} is not a grade")

    @property
    def highest_risk_level(self) -> str:
        return self.risk_bands[-1][0]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Method:
        """Build a method from its data-file form (see projects/methodology/1.0.json)."""
        try:
            return cls(
                version=str(data["version"]),
                dimensions=tuple(
                    DimensionSpec(
                        key=d["key"],
                        kind=d["kind"],
                        impact_weight=_fraction(d.get("impact_weight", 0), f"{d['key']} weight"),
                    )
                    for d in data["dimensions"]
                ),
                criteria=tuple(
                    CriterionSpec(code=c["code"], dimension=c["dimension"], weight=c["weight"])
                    for c in data["criteria"]
                ),
                alpha=_fraction(data["alpha"], "alpha"),
                coverage_threshold=_fraction(data["coverage_threshold"], "coverage_threshold"),
                risk_bands=tuple(
                    (b["key"], None if b["below"] is None else _fraction(b["below"], b["key"]))
                    for b in data["risk_levels"]
                ),
                grade_bands=tuple((g["grade"], _fraction(g["min"], g["grade"])) for g in data["grades"]),
                cap_risk_level_high=data["caps"]["risk_level_high"],
                cap_severe_rating=data["caps"]["severe_rating"],
                severe_rating=data["severe_rating"],
                evidence_quality={
                    grade: _fraction(q, f"evidence quality {grade}")
                    for grade, q in data["evidence_quality"].items()
                },
                confidence_bands=tuple(
                    (b["key"], _fraction(b["min"], b["key"])) for b in data["confidence_levels"]
                ),
            )
        except (KeyError, TypeError) as exc:
            raise MethodError(f"method data is incomplete: {exc!r}") from None


@dataclass(frozen=True)
class Rating:
    """One project's rating on one criterion: a level 0–4 with an evidence grade, or N/A.

    A criterion with no Rating at all is *missing* (not assessed yet), which is never 0.
    """

    code: str
    level: int | None = None
    evidence_grade: str | None = None
    not_applicable: bool = False


@dataclass(frozen=True)
class DimensionScore:
    key: str
    kind: DimensionKind
    applicable: bool  # at least one criterion is not N/A
    coverage: Fraction
    covered: bool
    value: Fraction | None  # null unless covered (and, for impact, unless applicable)
    low: Fraction | None
    high: Fraction | None
    level: str | None = None  # risk dimensions only, and only when covered
    severe: bool = False  # risk dimensions only: some criterion rated at the severe level


@dataclass(frozen=True)
class Card:
    """One project's scores under one method, exact: what the engine computes. The database
    keeps its ``as_dict`` form as a stored card (projects.models.ScoreCard)."""

    methodology: str
    status: str
    dimensions: Mapping[str, DimensionScore]
    impact: Fraction | None
    impact_low: Fraction | None
    impact_high: Fraction | None
    net: Fraction | None
    net_low: Fraction | None
    net_high: Fraction | None
    grade: str | None
    grade_cap: str | None  # which cap lowered the grade: "risk_level_high" or "severe_rating"
    confidence: Fraction | None
    confidence_label: str | None

    def as_dict(self) -> dict[str, Any]:
        """The served form (docs/scoring.md, "The served score card"): values rounded to one
        decimal, coverage to two."""
        dimensions: dict[str, Any] = {}
        for key, dim in self.dimensions.items():
            served: dict[str, Any] = {
                "value": round_half_up(dim.value, 1),
                "low": round_half_up(dim.low, 1),
                "high": round_half_up(dim.high, 1),
                "coverage": round_half_up(dim.coverage, 2),
                "applicable": dim.applicable,
            }
            if dim.kind == RISK:
                served["level"] = dim.level
                served["severe"] = dim.severe
            dimensions[key] = served
        return {
            "methodology": self.methodology,
            "status": self.status,
            "confidence": self.confidence_label,
            "confidence_score": round_half_up(self.confidence, 2),
            "overall": {
                "value": round_half_up(self.net, 1),
                "low": round_half_up(self.net_low, 1),
                "high": round_half_up(self.net_high, 1),
                "grade": self.grade,
                "grade_cap": self.grade_cap,
            },
            "impact": {
                "value": round_half_up(self.impact, 1),
                "low": round_half_up(self.impact_low, 1),
                "high": round_half_up(self.impact_high, 1),
            },
            "dimensions": dimensions,
        }


def round_half_up(value: Fraction | None, places: int) -> float | None:
    """Round exactly, halves away from zero (44.65 -> 44.7), as people expect of a score."""
    if value is None:
        return None
    # floor(|n/d| * scale + 1/2) in integers: (2 |n| scale + d) // 2d. Dividing two ints gives the
    # correctly rounded float, the same as float(Rational(q, scale)), at a fraction of the cost.
    scale = 10**places
    numerator, denominator = abs(int(value.numerator)), int(value.denominator)
    rounded = (2 * numerator * scale + denominator) // (2 * denominator)
    return rounded / scale if value >= 0 or rounded == 0 else -rounded / scale


def validate_ratings(method: Method, ratings: Iterable[Rating]) -> dict[str, Rating]:
    """Check every rating against the method; return them by criterion code.

    Raises RatingError naming the criterion and the field for anything the method refuses:
    an unknown code, a second rating of one criterion, a level outside 0–4 or not an integer,
    a missing or unknown evidence grade, or a level given together with N/A.
    """
    by_code: dict[str, Rating] = {}
    for rating in ratings:
        code = rating.code
        if code not in method.criteria_by_code:
            raise RatingError(str(code), "criterion", f"unknown criterion in method {method.version}")
        if code in by_code:
            raise RatingError(code, "criterion", "rated twice")
        if rating.not_applicable:
            if rating.level is not None:
                raise RatingError(code, "rating", "a criterion that is not applicable has no level")
        else:
            level = rating.level
            if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
                raise RatingError(code, "rating", f"must be an integer from 0 to 4, not {level!r}")
            if rating.evidence_grade not in method.evidence_quality:
                allowed = ", ".join(method.evidence_quality)
                raise RatingError(
                    code, "evidence_grade", f"must be one of {allowed}, not {rating.evidence_grade!r}"
                )
        by_code[code] = rating
    return by_code


def _risk_level(method: Method, value: Fraction) -> str:
    for level, below in method.risk_bands:
        if below is None or value < below:
            return level
    raise AssertionError("unreachable: the last band is open-ended")


def _band(bands: tuple[tuple[str, Fraction], ...], value: Fraction) -> str:
    for name, minimum in bands:
        if value >= minimum:
            return name
    return bands[-1][0]


def _score_dimension(
    method: Method, spec: DimensionSpec, ratings: Mapping[str, Rating]
) -> tuple[DimensionScore, Fraction | None]:
    """Score one dimension; also return its confidence share (None when nothing applies)."""
    applicable_weight = assessed_weight = weighted_levels = 0
    weight_by_grade: dict[str, int] = {}  # exact integers; one Fraction product per grade below
    severe = False
    for criterion in method.criteria_by_dimension[spec.key]:
        rating = ratings.get(criterion.code)
        if rating is not None and rating.not_applicable:
            continue
        applicable_weight += criterion.weight
        if rating is None:
            continue
        assert rating.level is not None and rating.evidence_grade is not None
        assessed_weight += criterion.weight
        weighted_levels += criterion.weight * rating.level
        weight_by_grade[rating.evidence_grade] = (
            weight_by_grade.get(rating.evidence_grade, 0) + criterion.weight
        )
        severe = severe or rating.level >= method.severe_rating

    is_risk = spec.kind == RISK
    if applicable_weight == 0:
        # Every criterion is N/A: covered; a risk is then nil, an impact drops out of the mean.
        zero = Rational(0) if is_risk else None
        level = _risk_level(method, Rational(0)) if is_risk else None
        return DimensionScore(spec.key, spec.kind, False, Rational(1), True, zero, zero, zero, level), None

    coverage = Rational(assessed_weight, applicable_weight)
    covered = coverage >= method.coverage_threshold
    full = 4 * applicable_weight
    low = Rational(100 * weighted_levels, full)
    high = Rational(100 * (weighted_levels + MAX_LEVEL * (applicable_weight - assessed_weight)), full)
    value = None
    if covered and assessed_weight:
        value = Rational(100 * weighted_levels, MAX_LEVEL * assessed_weight)
    level = None
    if is_risk and value is not None:
        level = method.highest_risk_level if severe else _risk_level(method, value)
    score = DimensionScore(
        spec.key, spec.kind, True, coverage, covered, value, low, high, level, severe and is_risk
    )
    quality = sum(
        (method.evidence_quality[grade] * weight for grade, weight in weight_by_grade.items()), Rational(0)
    )
    return score, quality / applicable_weight


def _weighted_mean(pairs: list[tuple[Fraction, Fraction | None]]) -> Fraction | None:
    if not pairs or any(value is None for _, value in pairs):
        return None
    total_weight = sum(weight for weight, _ in pairs)
    return sum(weight * value for weight, value in pairs) / total_weight  # type: ignore[operator]


def _cap(method: Method, grade: str, cap: str) -> str:
    order = [g for g, _ in method.grade_bands]
    return order[max(order.index(grade), order.index(cap))]


def _penalised(method: Method, base: Fraction | None, risks: list[Fraction | None]) -> Fraction | None:
    """The impact times (1 − α·risk/100) for each risk dimension (None when any is missing)."""
    if base is None or any(r is None for r in risks):
        return None
    result = base
    for risk in risks:
        result *= 1 - method.alpha * risk / 100  # type: ignore[operator]
    return result


def _graded(method: Method, net: Fraction, risks: list[tuple[str | None, bool]]) -> tuple[str, str | None]:
    """The grade of a net score, capped by the risk dimensions' (level, severe): and which cap
    lowered it, if one did."""
    grade, grade_cap = _band(method.grade_bands, net), None
    caps = []
    if any(level == method.highest_risk_level for level, _ in risks):
        caps.append(("risk_level_high", method.cap_risk_level_high))
    if any(severe for _, severe in risks):
        caps.append(("severe_rating", method.cap_severe_rating))
    for reason, cap in caps:
        capped = _cap(method, grade, cap)
        if capped != grade:
            grade, grade_cap = capped, reason
    return grade, grade_cap


def score(method: Method, ratings: Iterable[Rating]) -> Card:
    """Compute a project's score card under ``method`` (docs/scoring.md)."""
    by_code = validate_ratings(method, ratings)
    dimensions: dict[str, DimensionScore] = {}
    confidence_shares: list[Fraction] = []
    for spec in method.dimensions:
        dimensions[spec.key], share = _score_dimension(method, spec, by_code)
        if share is not None:
            confidence_shares.append(share)

    # A dimension weighted 0 (a §9 profile's choice; the method's own weights are positive)
    # drops out of the impact.
    impact_dims = [
        (spec.impact_weight, dimensions[spec.key])
        for spec in method.dimensions
        if spec.kind == IMPACT and dimensions[spec.key].applicable and spec.impact_weight > 0
    ]
    risk_dims = [dimensions[spec.key] for spec in method.dimensions if spec.kind == RISK]

    impact = _weighted_mean([(w, d.value) for w, d in impact_dims])
    impact_low = _weighted_mean([(w, d.low) for w, d in impact_dims])
    impact_high = _weighted_mean([(w, d.high) for w, d in impact_dims])

    rated = bool(impact_dims) and all(d.covered for d in dimensions.values())
    status = RATED if rated else INSUFFICIENT_DATA

    net = _penalised(method, impact, [d.value for d in risk_dims]) if rated else None
    net_low = _penalised(method, impact_low, [d.high for d in risk_dims])
    net_high = _penalised(method, impact_high, [d.low for d in risk_dims])

    grade = grade_cap = None
    if net is not None:
        grade, grade_cap = _graded(method, net, [(d.level, d.severe) for d in risk_dims])

    confidence = sum(confidence_shares) / len(confidence_shares) if confidence_shares else None
    confidence_label = None if confidence is None else _band(method.confidence_bands, confidence)

    return Card(
        methodology=method.version,
        status=status,
        dimensions=dimensions,
        impact=impact if rated else None,
        impact_low=impact_low,
        impact_high=impact_high,
        net=net,
        net_low=net_low,
        net_high=net_high,
        grade=grade,
        grade_cap=grade_cap,
        confidence=confidence,
        confidence_label=confidence_label,
    )


@dataclass(frozen=True)
class GradeChange:
    """One single-level change of one assessed criterion that would change the official grade
    (the method's §10): ``code`` from ``level_from`` to ``level_to`` gives ``net`` and ``grade``."""

    code: str
    level_from: int
    level_to: int
    net: Fraction
    grade: str


def grade_changes(method: Method, ratings: Iterable[Rating]) -> tuple[GradeChange, ...]:
    """Every change of one assessed criterion by one level (r → r ± 1 within 0–4) that changes a
    rated project's grade, each rescored by ``score`` itself; better grades first, then the
    larger move of the net score first, then criterion code and level (docs/scoring.md, "What
    would change the grade"). Empty for a project that is not rated."""
    by_code = validate_ratings(method, ratings)
    candidates = [
        (code, rating.level, level)
        for code, rating in by_code.items()
        if not rating.not_applicable and rating.level is not None
        for level in (rating.level - 1, rating.level + 1)
        if level in LEVELS
    ]
    return grade_changes_among(method, by_code.values(), candidates)


def grade_changes_among(
    method: Method,
    ratings: Iterable[Rating],
    candidates: Iterable[tuple[str, int, int]],
    official: Card | None = None,
) -> tuple[GradeChange, ...]:
    """``grade_changes`` decided exactly for the ``candidates`` (code, from, to) only: those a
    screen over many projects found possible (projects.scoring.uncertainty). ``official``: the
    ratings' card, when the caller has it."""
    by_code = validate_ratings(method, ratings)
    official = official if official is not None else score(method, by_code.values())
    if official.grade is None or official.net is None:
        return ()
    order = {grade: index for index, (grade, _) in enumerate(method.grade_bands)}
    found = []
    for code, level_from, level_to in candidates:
        rating = by_code.get(code)
        if rating is None or rating.not_applicable or rating.level != level_from or level_to not in LEVELS:
            continue
        if abs(level_to - level_from) != 1:
            continue
        changed = {**by_code, code: Rating(code, level_to, rating.evidence_grade)}
        card = score(method, changed.values())
        if card.grade is not None and card.net is not None and card.grade != official.grade:
            found.append(GradeChange(code, level_from, level_to, card.net, card.grade))
    found.sort(key=lambda c: (order[c.grade], -abs(c.net - official.net), c.code, c.level_to))
    return tuple(found)


# --- custom weighting profiles (the method's §9) -----------------------------------------------

PROFILE_DIMENSIONS = ("sdg7", "sdg9", "sdg12")
MAX_CRITERION_WEIGHT = 10


class ProfileError(ValueError):
    """A profile the method cannot take: ``field`` names what is wrong ("dimensions.sdg7",
    "alpha", "criteria.S9.1", "dimensions"), ``message`` says how."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Profile:
    """Weights in place of the method's (§9): the SDG dimensions' weights (renormalised over those
    with applicable criteria; 0 drops a dimension out of the impact), α, and optional criterion
    weights 0–10 (0: counted as not applicable). Ratings are never changed otherwise."""

    dimensions: Mapping[str, Fraction]
    alpha: Fraction
    criteria: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def official(cls, method: Method) -> Profile:
        """The profile that reproduces the method's own scores: its impact weights and α."""
        return cls(
            dimensions={d.key: d.impact_weight for d in method.dimensions if d.kind == IMPACT},
            alpha=method.alpha,
        )

    @classmethod
    def from_values(
        cls,
        method: Method,
        *,
        dimensions: Mapping[str, Any],
        alpha: Any,
        criteria: Mapping[str, Any] | None = None,
    ) -> Profile:
        """A profile from user input (numbers or numeric text), checked against ``method``:
        ProfileError names the first field that is wrong."""
        impact_keys = [d.key for d in method.dimensions if d.kind == IMPACT]
        weights: dict[str, Fraction] = {}
        for key, value in dimensions.items():
            if key not in impact_keys:
                raise ProfileError(
                    f"dimensions.{key}", f"unknown dimension; give one of {', '.join(impact_keys)}"
                )
            weights[key] = _profile_number(value, f"dimensions.{key}", low=0, high=100)
        weights = {key: weights.get(key, Rational(0)) for key in impact_keys}
        if not any(weights.values()):
            raise ProfileError("dimensions", "at least one dimension needs a weight above 0")
        counted = {}
        for code, value in (criteria or {}).items():
            if code not in method.criteria_by_code:
                raise ProfileError(f"criteria.{code}", "unknown criterion code")
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_CRITERION_WEIGHT
            ):
                raise ProfileError(
                    f"criteria.{code}", f"give a whole number from 0 to {MAX_CRITERION_WEIGHT}, not {value!r}"
                )
            counted[code] = value
        return cls(weights, _profile_number(alpha, "alpha", low=0, high=1), counted)

    def method(self, method: Method) -> Method:
        """``method`` with this profile's weights and α (a criterion weighted 0 keeps its own
        weight here: ``ratings`` counts it as not applicable)."""
        total = sum(self.dimensions.values())
        dimensions = tuple(
            DimensionSpec(d.key, d.kind, Rational(self.dimensions.get(d.key, 0)) / total)
            if d.kind == IMPACT
            else d
            for d in method.dimensions
        )
        criteria = tuple(
            CriterionSpec(c.code, c.dimension, self.criteria.get(c.code) or c.weight) for c in method.criteria
        )
        return Method(
            version=method.version,
            dimensions=dimensions,
            criteria=criteria,
            alpha=Rational(self.alpha),
            coverage_threshold=method.coverage_threshold,
            risk_bands=method.risk_bands,
            grade_bands=method.grade_bands,
            cap_risk_level_high=method.cap_risk_level_high,
            cap_severe_rating=method.cap_severe_rating,
            severe_rating=method.severe_rating,
            evidence_quality=method.evidence_quality,
            confidence_bands=method.confidence_bands,
        )

    def ratings(self, ratings: Iterable[Rating]) -> list[Rating]:
        """The ratings as this profile counts them: a criterion weighted 0 is not applicable."""
        dropped = {code for code, weight in self.criteria.items() if weight == 0}
        kept = [r for r in ratings if r.code not in dropped]
        return kept + [Rating(code, not_applicable=True) for code in sorted(dropped)]  # missing ones too


def _profile_number(value: Any, name: str, *, low: int, high: int) -> Fraction:
    if isinstance(value, bool):
        raise ProfileError(name, f"give a number from {low} to {high}, not {value!r}")
    if isinstance(value, (int, Fraction, Rational)) and abs(value) <= 10**6:  # exact already
        number = Rational(value)
        if not low <= number <= high:
            raise ProfileError(name, f"give a number from {low} to {high}, not {value}")
        return number
    text = str(value).strip()  # a float as written: 0.3 is 3/10
    try:
        decimal = Decimal(text)
    except (ArithmeticError, ValueError):
        decimal = None
    # A finite decimal of sensible size ("1e999999999" would be a number of a billion digits).
    if decimal is None or not decimal.is_finite() or len(text) > 32 or abs(decimal.adjusted()) > 6:
        raise ProfileError(name, f"give a number from {low} to {high}, not {text[:40]!r}")
    number = Rational(Fraction(decimal))
    if not low <= number <= high:
        raise ProfileError(name, f"give a number from {low} to {high}, not {str(value)[:40]}")
    return number


def score_under(method: Method, ratings: Iterable[Rating], profile: Profile) -> Card:
    """The card a project's ratings give under ``profile`` (§9): everything else is §4."""
    return score(profile.method(method), profile.ratings(ratings))


# --- a dimension profile from the stored dimension values (§9 at 100,000 projects) -------------


def exact_value(method: Method, key: str, value: float) -> Fraction:
    """A dimension's exact value from its float (``value_*`` of an uncertainty run): the value is
    100·Σw·r ÷ (4·Σw) over assessed criteria, so its reduced denominator divides Σw, at most the
    dimension's total weight W. Two such fractions differ by at least 1/W², far more than a
    correctly rounded float's error (below 100·2⁻⁵³), so the nearest fraction with a
    denominator up to W is the exact value (docs/scoring.md, "Your own weights")."""
    bound = sum(criterion.weight for criterion in method.criteria_by_dimension[key])
    found = Fraction(value).limit_denominator(bound)
    if abs(float(found) - value) > 1e-9:
        raise ValueError(f"{key}: {value!r} is no value the method can give")
    return Rational(found.numerator, found.denominator)


@dataclass(frozen=True)
class ProfileScore:
    net: Fraction
    grade: str
    grade_cap: str | None


def score_values(
    method: Method,
    profile: Profile,
    values: Mapping[str, Fraction | None],
    severe: Mapping[str, bool],
    weighted: Method | None = None,
) -> ProfileScore | None:
    """A rated project's net score and grade under a profile of dimension weights and α (no
    criterion weights: those change the dimension values), from the exact dimension values of
    its card (None: an impact dimension with nothing applicable) and its risk dimensions'
    severe flags: ``score_under`` of its ratings, without them. None: rated under no dimension
    this profile weights. ``weighted``: ``profile.method(method)``, when the caller built it once
    for many projects."""
    if profile.criteria:
        raise ValueError("a profile with criterion weights needs the ratings (score_under)")
    weighted = weighted or profile.method(method)
    impact = _weighted_mean(
        [
            (spec.impact_weight, values[spec.key])
            for spec in weighted.dimensions
            if spec.kind == IMPACT and values.get(spec.key) is not None and spec.impact_weight > 0
        ]
    )
    if impact is None:
        return None
    risks = [(spec.key, values[spec.key]) for spec in weighted.dimensions if spec.kind == RISK]
    net = _penalised(weighted, impact, [value for _, value in risks])
    if net is None:
        raise ValueError("a rated project has a value for every risk dimension")
    grade, grade_cap = _graded(
        weighted,
        net,
        [
            (
                weighted.highest_risk_level if severe.get(key) else _risk_level(weighted, value),
                bool(severe.get(key)),
            )
            for key, value in risks
        ],
    )
    return ProfileScore(net, grade, grade_cap)


def value_scale(method: Method) -> int:
    """L = lcm(1, …, W), W the largest dimension's total criterion weight: L times any value the
    method can give a dimension is a whole number (a value's reduced denominator divides its
    assessed weight, at most W; see ``exact_value``)."""
    largest = max(sum(c.weight for c in method.criteria_by_dimension[d.key]) for d in method.dimensions)
    return math.lcm(*range(1, largest + 1))


def profile_tenths(method: Method, profile: Profile) -> Callable[[Sequence[int | None]], int | None]:
    """The net under a dimension profile as served, in tenths (floor(10·net + ½)), from the
    dimension values as whole numbers over ``value_scale`` (None: an impact dimension with
    nothing applicable), in the method's dimension order: ``score_values``' net, rounded, in
    integer arithmetic alone, for deciding many projects at once. None: no dimension the profile
    weights applies."""
    if profile.criteria:
        raise ValueError("a profile with criterion weights needs the ratings (score_under)")
    weighted = profile.method(method)
    scale = value_scale(method)
    weights = {
        index: spec.impact_weight for index, spec in enumerate(weighted.dimensions) if spec.kind == IMPACT
    }
    common = math.lcm(*(int(w.denominator) for w in weights.values() if w > 0))
    impact = [(index, int(w * common)) for index, w in weights.items() if w > 0]
    risks = [index for index, spec in enumerate(weighted.dimensions) if spec.kind == RISK]
    alpha_numerator, alpha_denominator = int(weighted.alpha.numerator), int(weighted.alpha.denominator)
    whole = 100 * alpha_denominator * scale  # 1 − α·r/100 = (whole − a·N) / whole, r = N / scale
    denominator_risks = whole ** len(risks)

    def tenths(values: Sequence[int | None]) -> int | None:
        total = weight = 0
        for index, integer_weight in impact:
            value = values[index]
            if value is not None:
                total += integer_weight * value
                weight += integer_weight
        if not weight:
            return None
        numerator = total
        for index in risks:
            numerator *= whole - alpha_numerator * values[index]  # type: ignore[operator]
        denominator = scale * weight * denominator_risks
        return (20 * numerator + denominator) // (2 * denominator)

    return tenths
