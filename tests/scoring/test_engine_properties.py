"""Properties of scoring method 1.0 over random rating sets (docs/scoring.md).

Each criterion is independently missing, not_applicable, or rated 0–4 with a random evidence
grade. Besides the general properties (bounds, monotonicity, determinism, caps, status), the
engine is compared with the tests' independent reading of the formulas (tests/support/reference.py,
written from the spec's tables, not from the method fixture).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from projects.scoring import INSUFFICIENT_DATA, RATED, Method, Rating, score
from tests.support.criteria import RISK_CODES, SDG_CODES
from tests.support.examples import examples
from tests.support.reference import (
    ALL_DIMS,
    GRADES,
    MISSING,
    NA,
    RISK_DIMS,
    SDG_DIMS,
    SPEC_CRITERIA,
    grade_band,
    reference,
)

from .method_fixture import METHOD_1_0

METHOD = Method.from_dict(METHOD_1_0)


PROPERTY_SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def rating_sets(draw, missing: int, not_applicable: int, rated: int):
    """Random states for all 25 criteria: MISSING, NA, or (level, evidence grade).

    Each criterion is independently missing, N/A or rated with odds
    missing : not_applicable : rated. To reach every grade and cap, each example first draws
    a lowest SDG level and a highest risk level, then every rated SDG criterion gets a random
    level from that floor to 4 and every rated risk criterion one from 0 to that ceiling
    (floor 0 and ceiling 4 give uniform levels everywhere); each gets a random grade A–D.
    """
    sdg_floor = draw(st.integers(0, 4), label="lowest SDG level")
    risk_ceiling = draw(st.integers(0, 4), label="highest risk level")
    kinds = [MISSING] * missing + [NA] * not_applicable + ["rated"] * rated
    picks = draw(
        st.lists(
            st.tuples(st.integers(0, len(kinds) - 1), st.integers(0, 4), st.integers(0, 3)),
            min_size=len(SPEC_CRITERIA),
            max_size=len(SPEC_CRITERIA),
        )
    )
    states = {}
    for code, (kind, level, grade) in zip(SPEC_CRITERIA, picks, strict=True):
        if kinds[kind] != "rated":
            states[code] = kinds[kind]
            continue
        level = sdg_floor + level % (5 - sdg_floor) if code in SDG_CODES else level % (risk_ceiling + 1)
        states[code] = (level, "ABCD"[grade])
    return states


ANY_RATINGS = rating_sets(missing=1, not_applicable=1, rated=1)
# Mostly rated, so that "rated" cards (every dimension covered) are common.
MOSTLY_RATED = rating_sets(missing=1, not_applicable=1, rated=5)
NOTHING_MISSING = rating_sets(missing=0, not_applicable=1, rated=3)


def to_ratings(states: dict) -> list[Rating]:
    ratings = []
    for code, state in states.items():
        if state == MISSING:
            continue
        if state == NA:
            ratings.append(Rating(code, not_applicable=True))
        else:
            level, grade = state
            ratings.append(Rating(code, level, grade))
    return ratings


def card_for(states: dict):
    return score(METHOD, to_ratings(states))


def half_up(value: F | None, places: int) -> float | None:
    if value is None:
        return None
    scale = 10**places
    return math.floor(value * scale + F(1, 2)) / scale


# --- agreement with the spec's formulas ------------------------------------------------------


def assert_matches_reference(states: dict) -> None:
    card = card_for(states)
    expected = reference(states)
    for key in ALL_DIMS:
        dim = card.dimensions[key]
        got = {
            "applicable": dim.applicable,
            "coverage": dim.coverage,
            "covered": dim.covered,
            "value": dim.value,
            "low": dim.low,
            "high": dim.high,
            "level": dim.level if key in RISK_DIMS else None,
            "severe": dim.severe,
        }
        assert got == expected["dims"][key], key
    for part in ("status", "impact_low", "impact_high", "net", "net_low", "net_high", "grade"):
        assert getattr(card, part) == expected[part], part
    if card.status == RATED:
        assert card.impact == expected["impact"]
    assert card.confidence == expected["confidence"]
    assert card.confidence_label == expected["confidence_label"]


@PROPERTY_SETTINGS
@given(ANY_RATINGS)
def test_engine_matches_an_independent_reading_of_the_formulas(states):
    assert_matches_reference(states)


@PROPERTY_SETTINGS
@given(MOSTLY_RATED)
def test_rated_cards_match_an_independent_reading_of_the_formulas(states):
    # The same comparison where most cards are rated and carry a grade (and sometimes a cap).
    assert_matches_reference(states)


@PROPERTY_SETTINGS
@given(ANY_RATINGS)
def test_served_card_is_json_and_every_number_is_rounded_half_up(states):
    card = card_for(states)
    served = card.as_dict()
    assert json.loads(json.dumps(served)) == served
    assert served["methodology"] == "1.0"
    assert served["status"] == card.status
    assert served["overall"] == {
        "value": half_up(card.net, 1),
        "low": half_up(card.net_low, 1),
        "high": half_up(card.net_high, 1),
        "grade": card.grade,
        "grade_cap": card.grade_cap,
    }
    assert served["confidence"] == card.confidence_label
    assert served["confidence_score"] == half_up(card.confidence, 2)
    assert set(served["dimensions"]) == set(ALL_DIMS)
    for key in ALL_DIMS:
        dim = card.dimensions[key]
        expected = {
            "value": half_up(dim.value, 1),
            "low": half_up(dim.low, 1),
            "high": half_up(dim.high, 1),
            "coverage": half_up(dim.coverage, 2),
            "applicable": dim.applicable,
        }
        if key in RISK_DIMS:
            expected["level"] = dim.level
            expected["severe"] = dim.severe
        assert served["dimensions"][key] == expected


# --- bounds ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_RATINGS)
def test_low_value_high_are_ordered_within_0_and_100(states):
    card = card_for(states)
    for key in ALL_DIMS:
        dim = card.dimensions[key]
        if dim.low is None or dim.high is None:
            assert key in SDG_DIMS and not dim.applicable
            assert dim.value is None
            continue
        assert 0 <= dim.low <= dim.high <= 100
        if dim.value is not None:
            assert dim.low <= dim.value <= dim.high
        assert 0 <= dim.coverage <= 1
    for low, value, high in (
        (card.impact_low, card.impact, card.impact_high),
        (card.net_low, card.net, card.net_high),
    ):
        if low is None:
            assert value is None and high is None
            continue
        assert 0 <= low <= high <= 100
        if value is not None:
            assert low <= value <= high
    if card.confidence is not None:
        assert 0 <= card.confidence <= 1


# --- monotonicity ----------------------------------------------------------------------------


def _raise_one(data, states, codes):
    raisable = [c for c in codes if states[c] not in (MISSING, NA) and states[c][0] < 4]
    assume(raisable)
    code = data.draw(st.sampled_from(raisable), label="raised criterion")
    level, grade = states[code]
    new_level = data.draw(st.integers(level + 1, 4), label="new level")
    return {**states, code: (new_level, grade)}


@PROPERTY_SETTINGS
@given(MOSTLY_RATED, st.data())
def test_raising_an_sdg_level_never_lowers_impact_or_net(states, data):
    before = card_for(states)
    after = card_for(_raise_one(data, states, SDG_CODES))
    assert after.status == before.status  # coverage is unchanged
    if before.status == RATED:
        assert after.impact >= before.impact
        assert after.net >= before.net
    # The ranges are always shown when an SDG dimension applies; they cannot drop either.
    assert after.impact_low >= before.impact_low
    assert after.impact_high >= before.impact_high
    assert after.net_low >= before.net_low
    assert after.net_high >= before.net_high


@PROPERTY_SETTINGS
@given(MOSTLY_RATED, st.data())
def test_raising_a_risk_level_never_raises_net(states, data):
    before = card_for(states)
    after = card_for(_raise_one(data, states, RISK_CODES))
    assert after.status == before.status
    if before.status == RATED:
        assert after.net <= before.net
        assert GRADES.index(after.grade) >= GRADES.index(before.grade)
    if before.net_low is not None:
        assert after.net_low <= before.net_low
        assert after.net_high <= before.net_high


# --- full coverage ---------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(NOTHING_MISSING)
def test_full_coverage_collapses_every_range_to_its_value(states):
    card = card_for(states)
    for key in ALL_DIMS:
        dim = card.dimensions[key]
        assert dim.coverage == 1
        assert dim.covered
        if dim.applicable or key in RISK_DIMS:
            assert dim.low == dim.value == dim.high
            assert dim.value is not None
    some_sdg_applicable = any(card.dimensions[k].applicable for k in SDG_DIMS)
    assert (card.status == RATED) == some_sdg_applicable
    if card.status == RATED:
        assert card.impact_low == card.impact == card.impact_high
        assert card.net_low == card.net == card.net_high


# --- determinism -----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_RATINGS, st.randoms(use_true_random=False))
def test_card_is_deterministic_and_independent_of_rating_order(states, rnd):
    ratings = to_ratings(states)
    shuffled = list(ratings)
    rnd.shuffle(shuffled)
    first = score(METHOD, ratings)
    again = score(METHOD, list(ratings))
    reordered = score(METHOD, shuffled)
    from_iterator = score(METHOD, iter(shuffled))
    assert first == again == reordered == from_iterator
    assert first.as_dict() == reordered.as_dict() == from_iterator.as_dict()
    fresh_method = score(Method.from_dict(METHOD_1_0), reversed(ratings))
    assert fresh_method.as_dict() == first.as_dict()


# --- grade and status ------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(MOSTLY_RATED)
def test_grade_is_never_better_than_the_uncapped_band(states):
    card = card_for(states)
    if card.net is None:
        assert card.grade is None
        assert card.grade_cap is None
        return
    band = grade_band(card.net)
    assert GRADES.index(card.grade) >= GRADES.index(band)
    risks = [card.dimensions[k] for k in RISK_DIMS]
    if any(d.severe for d in risks):
        assert GRADES.index(card.grade) >= GRADES.index("D")
    if any(d.level == "high" for d in risks):
        assert GRADES.index(card.grade) >= GRADES.index("C")
    if card.grade_cap is None:
        assert card.grade == band
    else:
        assert card.grade != band


@PROPERTY_SETTINGS
@given(ANY_RATINGS)
def test_status_is_rated_iff_every_dimension_half_covered_and_an_sdg_dimension_applies(states):
    card = card_for(states)
    every_covered = all(card.dimensions[k].coverage >= F(1, 2) for k in ALL_DIMS)
    some_sdg = any(card.dimensions[k].applicable for k in SDG_DIMS)
    assert (card.status == RATED) == (every_covered and some_sdg)
    assert (card.net is not None) == (card.status == RATED)
    assert (card.grade is not None) == (card.status == RATED)
    assert card.status in (RATED, INSUFFICIENT_DATA)
