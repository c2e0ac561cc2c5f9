"""The engine gives the same cards with gmpy2's ``mpq`` as with ``fractions.Fraction``.

``engine.Rational`` is gmpy2's ``mpq`` when it is installed, else ``Fraction``. Both are exact,
so every card must be identical, to the last served digit and the sign of a zero. Each card here
is computed twice: once as installed (``mpq``) and once with ``engine.Rational`` replaced by
``Fraction``; the method is parsed under each too (``Method.from_dict`` parses with
``Rational``), so nothing of one backend leaks into the other run.
"""

from __future__ import annotations

import itertools
import json
import math
from contextlib import contextmanager
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.scoring import engine
from projects.scoring.engine import Method, MethodError, Rating, round_half_up, score
from tests.support.examples import examples

from .method_fixture import METHOD_1_0
from .test_engine_properties import ANY_RATINGS, MOSTLY_RATED, SPEC_CRITERIA, to_ratings

gmpy2 = pytest.importorskip("gmpy2")
MPQ = type(gmpy2.mpq(1, 3))

PROPERTY_SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@contextmanager
def rationals(kind):
    """Run the engine with ``kind`` as its rational type."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "Rational", kind)
        yield


def test_gmpy2_is_the_installed_backend():
    # Otherwise every comparison below would compare Fraction with itself.
    assert engine.Rational is gmpy2.mpq


def both(data: dict, ratings: list[Rating]):
    """The card of ``ratings`` under the method ``data``, computed with mpq and with Fraction."""
    with rationals(gmpy2.mpq):
        with_mpq = score(Method.from_dict(data), ratings)
    with rationals(F):
        with_fraction = score(Method.from_dict(data), ratings)
    return with_mpq, with_fraction


def exact(value):
    """A rational of either kind as a Fraction (None stays None)."""
    if value is None:
        return None
    return F(int(value.numerator), int(value.denominator))


EXACT_FIELDS = ("impact", "impact_low", "impact_high", "net", "net_low", "net_high", "confidence")
DIMENSION_FIELDS = ("coverage", "value", "low", "high")


def assert_same_cards(with_mpq, with_fraction) -> dict:
    served_mpq, served_fraction = with_mpq.as_dict(), with_fraction.as_dict()
    assert served_mpq == served_fraction
    # == does not tell 0.0 from -0.0: the JSON text does.
    assert json.dumps(served_mpq, sort_keys=True) == json.dumps(served_fraction, sort_keys=True)
    # The exact values agree too, not only their rounding, and each run used its own type.
    for name in EXACT_FIELDS:
        a, b = getattr(with_mpq, name), getattr(with_fraction, name)
        assert exact(a) == exact(b), name
        if a is not None:
            assert isinstance(a, MPQ), name
            assert isinstance(b, F) and not isinstance(b, MPQ), name
    for key, dim in with_mpq.dimensions.items():
        other = with_fraction.dimensions[key]
        for name in DIMENSION_FIELDS:
            assert exact(getattr(dim, name)) == exact(getattr(other, name)), (key, name)
        assert (dim.level, dim.severe, dim.covered, dim.applicable) == (
            other.level,
            other.severe,
            other.covered,
            other.applicable,
        )
    for name in ("status", "grade", "grade_cap", "confidence_label", "methodology"):
        assert getattr(with_mpq, name) == getattr(with_fraction, name), name
    return served_mpq


# --- random ratings under method 1.0 ---------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_RATINGS)
def test_any_ratings_give_the_same_card_with_mpq_and_fraction(states):
    assert_same_cards(*both(METHOD_1_0, to_ratings(states)))


@PROPERTY_SETTINGS
@given(MOSTLY_RATED)
def test_rated_cards_with_grades_and_caps_are_the_same_with_mpq_and_fraction(states):
    assert_same_cards(*both(METHOD_1_0, to_ratings(states)))


# --- random ratings under random methods -----------------------------------------------------


def fraction_text(draw, low: F, high: F, *, max_denominator: int = 40) -> str:
    """An exact number in [low, high] as a method file writes it: "p/q", a decimal or an integer."""
    denominator = draw(st.integers(1, max_denominator))
    numerator = draw(st.integers(math.ceil(low * denominator), math.floor(high * denominator)))
    value = F(numerator, denominator)
    form = draw(st.sampled_from(["ratio", "decimal"]))
    if form == "decimal" and 10**6 % value.denominator == 0:
        return f"{float(value):.6f}".rstrip("0").rstrip(".") if value else "0"
    return f"{value.numerator}/{value.denominator}"


@st.composite
def methods(draw) -> dict:
    """Method 1.0's shape with random weights, α, thresholds, bands, qualities and caps."""
    data = json.loads(json.dumps(METHOD_1_0))
    data["alpha"] = fraction_text(draw, F(0), F(1))
    data["coverage_threshold"] = fraction_text(draw, F(1, 40), F(1))
    for dimension in data["dimensions"]:
        if dimension["kind"] == "impact":
            dimension["impact_weight"] = fraction_text(draw, F(1, 40), F(3))
    for criterion in data["criteria"]:
        criterion["weight"] = draw(st.integers(1, 5))
    risk = sorted(draw(st.sets(st.integers(1, 99), min_size=3, max_size=3)))
    data["risk_levels"] = [
        {"key": key, "below": str(bound)}
        for key, bound in zip(("low", "moderate", "elevated"), risk, strict=True)
    ] + [{"key": "high", "below": None}]
    grades = sorted(draw(st.sets(st.integers(1, 100), min_size=4, max_size=4)), reverse=True)
    data["grades"] = [{"grade": g, "min": str(m)} for g, m in zip("ABCD", grades, strict=True)] + [
        {"grade": "E", "min": "0"}
    ]
    data["caps"] = {
        "risk_level_high": draw(st.sampled_from("ABCDE")),
        "severe_rating": draw(st.sampled_from("ABCDE")),
    }
    data["severe_rating"] = draw(st.integers(2, 4))
    data["evidence_quality"] = {grade: fraction_text(draw, F(0), F(1)) for grade in "ABCD"}
    high, medium = sorted(draw(st.sets(st.integers(1, 20), min_size=2, max_size=2)), reverse=True)
    data["confidence_levels"] = [
        {"key": "high", "min": f"{high}/20"},
        {"key": "medium", "min": f"{medium}/20"},
        {"key": "low", "min": "0"},
    ]
    return data


@PROPERTY_SETTINGS
@given(methods(), ANY_RATINGS)
def test_random_methods_give_the_same_card_with_mpq_and_fraction(data, states):
    assert_same_cards(*both(data, to_ratings(states)))


@PROPERTY_SETTINGS
@given(methods(), MOSTLY_RATED)
def test_random_methods_and_mostly_rated_projects_agree(data, states):
    assert_same_cards(*both(data, to_ratings(states)))


# --- boundaries: exact thresholds ------------------------------------------------------------

WEIGHTS = {
    dimension: [(code, weight) for code, (dim, weight) in SPEC_CRITERIA.items() if dim == dimension]
    for dimension in ("sdg7", "sdg9", "sdg12", "debris", "equity")
}


def levels_for(dimension: str, value, *, top: int = 4) -> list[tuple[str, int]]:
    """(code, level) for every criterion of ``dimension`` so that its value, 100·Σ w·level / 4·Σ w,
    is exactly ``value``, with levels at most ``top``."""
    codes = WEIGHTS[dimension]
    total = F(value) * 4 * sum(w for _, w in codes) / 100
    for levels in itertools.product(range(top + 1), repeat=len(codes)):
        if sum(w * level for (_, w), level in zip(codes, levels, strict=True)) == total:
            return [(code, level) for (code, _), level in zip(codes, levels, strict=True)]
    raise AssertionError(f"no levels give {value} in {dimension}")


def ratings_for(grade: str = "B", not_applicable=(), top_risk: int = 3, **values) -> list[Rating]:
    """Every criterion rated (evidence ``grade``) so that each dimension has the given value;
    the dimensions in ``not_applicable`` are N/A throughout."""
    ratings = []
    for dimension in WEIGHTS:
        if dimension in not_applicable:
            ratings += [Rating(code, not_applicable=True) for code, _ in WEIGHTS[dimension]]
            continue
        top = top_risk if dimension in ("debris", "equity") else 4
        ratings += [
            Rating(code, level, grade) for code, level in levels_for(dimension, values[dimension], top=top)
        ]
    return ratings


@pytest.mark.parametrize(
    ("sdg7", "sdg9", "sdg12", "net", "grade"),
    [
        ("70", "65", "75", F(70), "A"),
        ("67.5", "65", "75", F(415, 6), "B"),
        ("55", "60", "50", F(55), "B"),
        ("52.5", "60", "50", F(325, 6), "C"),
        ("40", "30", "50", F(40), "C"),
        ("37.5", "30", "50", F(235, 6), "D"),
        ("25", "25", "25", F(25), "D"),
        ("22.5", "25", "25", F(145, 6), "E"),
    ],
)
def test_grade_thresholds_reached_exactly_are_the_same_with_both(sdg7, sdg9, sdg12, net, grade):
    # No risk (both risk dimensions N/A): the net score is the impact, the mean of the three.
    ratings = ratings_for(sdg7=sdg7, sdg9=sdg9, sdg12=sdg12, not_applicable=("debris", "equity"))
    with_mpq, with_fraction = both(METHOD_1_0, ratings)
    assert exact(with_mpq.net) == net
    served = assert_same_cards(with_mpq, with_fraction)
    assert served["overall"]["grade"] == grade
    assert served["overall"]["value"] == round_half_up(net, 1)


def test_a_threshold_reached_through_the_risk_discount_is_the_same_with_both():
    # Impact (80 + 85 + 75)/3 = 80, debris 25: 80 · (1 − ½ · 25/100) = 80 · 7/8 = 70 exactly -> A.
    with_mpq, with_fraction = both(
        METHOD_1_0, ratings_for(sdg7=80, sdg9=85, sdg12=75, debris=25, not_applicable=("equity",))
    )
    assert exact(with_mpq.net) == F(70)
    assert assert_same_cards(with_mpq, with_fraction)["overall"]["grade"] == "A"


@pytest.mark.parametrize(
    ("debris", "level"),
    [
        ("17.5", "low"),
        ("20", "moderate"),  # "low" is below 20: exactly 20 is moderate
        ("37.5", "moderate"),
        ("40", "elevated"),
        ("57.5", "elevated"),
        ("60", "high"),
    ],
)
def test_risk_level_thresholds_reached_exactly_are_the_same_with_both(debris, level):
    ratings = ratings_for(sdg7=50, sdg9=50, sdg12=50, debris=debris, not_applicable=("equity",))
    served = assert_same_cards(*both(METHOD_1_0, ratings))
    assert served["dimensions"]["debris"]["value"] == float(debris)
    assert served["dimensions"]["debris"]["level"] == level
    assert served["dimensions"]["debris"]["severe"] is False


@pytest.mark.parametrize(
    ("grade", "label", "value"),
    [("A", "high", 1.0), ("B", "high", 0.75), ("C", "medium", 0.5), ("D", "low", 0.25)],
)
def test_confidence_thresholds_reached_exactly_are_the_same_with_both(grade, label, value):
    # Every criterion graded alike: the confidence is that grade's quality, exactly ¾ or ½.
    ratings = ratings_for(grade, sdg7=50, sdg9=50, sdg12=50, debris=20, equity=20)
    served = assert_same_cards(*both(METHOD_1_0, ratings))
    assert (served["confidence"], served["confidence_score"]) == (label, value)


def test_coverage_of_exactly_the_threshold_is_covered_with_both():
    # sdg7: S7.1 (3) and S7.3 (2) rated, the rest missing: 5 of 10 = exactly ½, covered.
    ratings = [
        r
        for r in ratings_for(sdg7=50, sdg9=50, sdg12=50, debris=20, equity=20)
        if not r.code.startswith("S7.")
    ]
    ratings += [Rating("S7.1", 2, "B"), Rating("S7.3", 2, "B")]
    served = assert_same_cards(*both(METHOD_1_0, ratings))
    assert served["dimensions"]["sdg7"]["coverage"] == 0.5
    assert served["status"] == "rated"


def test_a_severe_rating_caps_the_same_with_both():
    ratings = ratings_for(sdg7=100, sdg9=100, sdg12=100, debris=20, equity=20)
    ratings = [Rating("D4", 4, "B") if r.code == "D4" else r for r in ratings]
    served = assert_same_cards(*both(METHOD_1_0, ratings))
    assert served["dimensions"]["debris"]["level"] == "high"
    assert (served["overall"]["grade"], served["overall"]["grade_cap"]) == ("D", "severe_rating")


def test_no_ratings_and_all_not_applicable_are_the_same_with_both():
    assert_same_cards(*both(METHOD_1_0, []))
    everything_na = [Rating(code, not_applicable=True) for code in SPEC_CRITERIA]
    served = assert_same_cards(*both(METHOD_1_0, everything_na))
    assert served["confidence"] is None and served["confidence_score"] is None


# --- boundaries: rounding --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (F(-4, 100), 1, "0.0"),  # -0.04 -> 0.0, never -0.0
        (F(-1, 1000), 1, "0.0"),
        (F(-49, 1000), 1, "0.0"),
        (F(-5, 100), 1, "-0.1"),  # a half rounds away from zero
        (F(5, 100), 1, "0.1"),
        (F(4465, 100), 1, "44.7"),
        (F(-4465, 100), 1, "-44.7"),
        (F(4464999, 100000), 1, "44.6"),
        (F(-4, 1000), 2, "0.0"),
        (F(-5, 1000), 2, "-0.01"),
        (F(5, 1000), 2, "0.01"),
        (F(-1, 3), 2, "-0.33"),
        (F(2, 3), 2, "0.67"),
        (F(0), 1, "0.0"),
        (F(0), 2, "0.0"),
        (F(100), 1, "100.0"),
        (F(-100), 1, "-100.0"),
        (F(1, 2), 0, "1.0"),
        (F(-1, 2), 0, "-1.0"),
        (F(-1, 3), 0, "0.0"),
        (F(2639, 48), 1, "55.0"),
    ],
)
def test_round_half_up_is_the_same_for_mpq_and_fraction(value, places, expected):
    mpq_value = gmpy2.mpq(value.numerator, value.denominator)
    assert json.dumps(round_half_up(value, places)) == expected
    assert json.dumps(round_half_up(mpq_value, places)) == expected


def test_round_half_up_of_none_is_none_with_both():
    assert round_half_up(None, 1) is None


@settings(max_examples=examples(1000), deadline=None)
@given(
    st.fractions(min_value=-200, max_value=200, max_denominator=10**6),
    st.integers(0, 3),
)
def test_round_half_up_agrees_for_any_rational(value, places):
    from_fraction = round_half_up(value, places)
    from_mpq = round_half_up(gmpy2.mpq(value.numerator, value.denominator), places)
    assert json.dumps(from_fraction) == json.dumps(from_mpq)
    scale = 10**places
    magnitude = math.floor(abs(value) * scale + F(1, 2))
    expected = 0.0 if magnitude == 0 else math.copysign(magnitude / scale, value)
    assert json.dumps(from_mpq) == json.dumps(expected)


# --- parsing the method's numbers ------------------------------------------------------------


def parsed(kind, text):
    with rationals(kind):
        try:
            return exact(engine._fraction(text, "alpha"))
        except MethodError as exc:
            return f"refused: {exc}"


SPELLINGS = "1/3, 0.5,  0.5 , .5, 5., 1e-3, 1.5e-3, 00.50, -1/3, 0/5, 1_000, 20, 1/0, abc, 0.1/3, nan, inf"


@pytest.mark.parametrize("text", [*SPELLINGS.split(","), "", 20, 0])
def test_method_numbers_parse_to_the_same_value_or_refusal_with_both(text):
    assert parsed(gmpy2.mpq, text) == parsed(F, text)


@pytest.mark.parametrize("text", [0.5, True, None, [1]])
def test_inexact_or_wrong_method_numbers_are_refused_with_both(text):
    assert parsed(gmpy2.mpq, text).startswith("refused: alpha")
    assert parsed(F, text).startswith("refused: alpha")


@pytest.mark.parametrize("text", ["+3", "+0.5", "3/-4", "1 / 3", "٣"])
def test_method_number_spellings_where_the_backends_disagree(text):
    assert parsed(gmpy2.mpq, text) == parsed(F, text)
