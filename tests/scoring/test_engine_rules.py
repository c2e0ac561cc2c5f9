"""Worked examples of scoring method 1.0, each computed by hand from docs/scoring.md.

The expected numbers below come from the specification, not from running the engine. Every
example writes out its arithmetic. Criterion weights, in the order of the spec's tables (the
order the helper ``dim`` takes levels in):

    sdg7    S7.1  S7.2  S7.3  S7.4  S7.5     3 2 2 1 2   Σ 10
    sdg9    S9.1  S9.2  S9.3  S9.4  S9.5     3 2 2 1 2   Σ 10
    sdg12   S12.1 S12.2 S12.3 S12.4 S12.5    2 3 2 2 2   Σ 11
    debris  D1    D2    D3    D4    D5       3 2 2 1 2   Σ 10
    equity  E1    E2    E3    E4    E5       2 3 2 1 2   Σ 10

A dimension fully rated at one level r has value 100·r·Σw / (4·Σw) = 25·r.
Notation: S = Σ_A w·r, W_A = Σ_A w, W_C = Σ_C w; value = 100·S/(4·W_A) = 25·S/W_A,
low = 25·S/W_C, high = 25·(S + 4·(W_C − W_A))/W_C.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from projects.scoring import (
    INSUFFICIENT_DATA,
    RATED,
    Method,
    Rating,
    RatingError,
    round_half_up,
    score,
)
from tests.support.criteria import CODES, SPEC

from .method_fixture import METHOD_1_0

METHOD = Method.from_dict(METHOD_1_0)

SPEC_WEIGHTS = {dimension: tuple(weight for _, weight in pairs) for dimension, pairs in SPEC.items()}

NA = "n/a"  # marks a criterion as not_applicable in ``dim``; None marks it missing


def dim(key: str, *levels, grade: str = "B") -> list[Rating]:
    """Ratings of one dimension, one entry per criterion in spec order.

    An int is a level (with ``grade``), NA is not_applicable, None is missing (no Rating).
    A single int stands for "every criterion at this level".
    """
    if len(levels) == 1:
        levels = levels * 5
    assert len(levels) == 5
    ratings = []
    for code, level in zip(CODES[key], levels, strict=True):
        if level is None:
            continue
        if level == NA:
            ratings.append(Rating(code, not_applicable=True))
        else:
            ratings.append(Rating(code, level, grade))
    return ratings


def card_of(sdg7=(2,), sdg9=(2,), sdg12=(2,), debris=(0,), equity=(0,), grade: str = "B"):
    """Score a project; each argument is the level tuple for ``dim`` (default: all 2 / all 0)."""
    ratings = []
    for key, levels in (
        ("sdg7", sdg7),
        ("sdg9", sdg9),
        ("sdg12", sdg12),
        ("debris", debris),
        ("equity", equity),
    ):
        ratings += dim(key, *levels, grade=grade)
    return score(METHOD, ratings)


ALL_NA = (NA,)


# --- the method data itself ------------------------------------------------------------------


def test_method_1_0_has_the_spec_criteria_weights_and_dimensions():
    by_dim: dict[str, list[tuple[str, int]]] = {}
    for criterion in METHOD.criteria:
        by_dim.setdefault(criterion.dimension, []).append((criterion.code, criterion.weight))
    assert by_dim == {key: list(zip(CODES[key], SPEC_WEIGHTS[key], strict=True)) for key in CODES}
    kinds = {d.key: d.kind for d in METHOD.dimensions}
    assert kinds == {
        "sdg7": "impact",
        "sdg9": "impact",
        "sdg12": "impact",
        "debris": "risk",
        "equity": "risk",
    }


# --- coverage --------------------------------------------------------------------------------


def test_coverage_is_assessed_weight_over_applicable_weight():
    # sdg7: S7.1 (w3) and S7.4 (w1) rated, the rest missing: coverage = (3+1)/10 = 2/5.
    card = card_of(sdg7=(2, None, None, 2, None))
    assert card.dimensions["sdg7"].coverage == F(2, 5)
    assert card.as_dict()["dimensions"]["sdg7"]["coverage"] == 0.4


def test_coverage_leaves_not_applicable_criteria_out_of_the_denominator():
    # sdg7: S7.1 (w3) rated, S7.2 and S7.3 N/A (w2+w2), S7.4 (w1) and S7.5 (w2) missing.
    # Applicable weight = 3+1+2 = 6, assessed 3: coverage = 3/6 = 1/2 (not 3/10).
    card = card_of(sdg7=(2, NA, NA, None, None))
    assert card.dimensions["sdg7"].coverage == F(1, 2)
    assert card.dimensions["sdg7"].covered is True


def test_coverage_of_fully_rated_dimension_is_one():
    card = card_of()
    for key in CODES:
        assert card.dimensions[key].coverage == 1
        assert card.dimensions[key].covered is True


def test_coverage_is_one_when_every_criterion_is_not_applicable():
    card = card_of(sdg12=ALL_NA, equity=ALL_NA)
    assert card.dimensions["sdg12"].coverage == 1
    assert card.dimensions["equity"].coverage == 1
    assert card.as_dict()["dimensions"]["sdg12"]["coverage"] == 1.0


# --- value, low, high ------------------------------------------------------------------------


def test_value_low_high_with_missing_criteria():
    # sdg7: S7.1=4 (w3), S7.2=2 (w2), S7.3=0 (w2); S7.4 (w1) and S7.5 (w2) missing.
    # S = 3·4 + 2·2 + 2·0 = 16; W_A = 7; W_C = 10.
    # value = 100·16/(4·7) = 400/7 ≈ 57.142857 -> 57.1
    # low   = 100·16/(4·10) = 40                                (missing counted as 0)
    # high  = 100·(16 + 4·3)/(4·10) = 2800/40 = 70             (missing counted as 4)
    card = card_of(sdg7=(4, 2, 0, None, None))
    sdg7 = card.dimensions["sdg7"]
    assert sdg7.coverage == F(7, 10)
    assert sdg7.value == F(400, 7)
    assert sdg7.low == 40
    assert sdg7.high == 70
    served = card.as_dict()["dimensions"]["sdg7"]
    assert (served["value"], served["low"], served["high"], served["coverage"]) == (
        57.1,
        40.0,
        70.0,
        0.7,
    )


def test_missing_rating_is_not_zero():
    # Same sdg7 as above but with S7.4 and S7.5 rated 0 instead of missing:
    # S = 16, W_A = W_C = 10 -> value = low = high = 1600/40 = 40, coverage 1.
    # With them missing the value is 400/7 ≈ 57.14 (they leave the mean), not 40.
    rated_zero = card_of(sdg7=(4, 2, 0, 0, 0)).dimensions["sdg7"]
    missing = card_of(sdg7=(4, 2, 0, None, None)).dimensions["sdg7"]
    assert rated_zero.value == rated_zero.low == rated_zero.high == 40
    assert missing.value == F(400, 7)
    assert missing.value != rated_zero.value
    assert missing.high == 70 != rated_zero.high


def test_value_is_a_weighted_mean_of_levels_not_a_plain_mean():
    # sdg7: S7.1=4 (w3), S7.2..S7.5 = 0. Weighted: 100·12/40 = 30. Plain mean would be 20.
    assert card_of(sdg7=(4, 0, 0, 0, 0)).dimensions["sdg7"].value == 30
    # sdg7: S7.4=4 (w1), others 0. Weighted: 100·4/40 = 10. Plain mean would be 20.
    assert card_of(sdg7=(0, 0, 0, 4, 0)).dimensions["sdg7"].value == 10


def test_dimension_with_no_assessed_criterion_has_null_value_and_full_range():
    # sdg7 all missing: coverage 0, value null, low = 0, high = 100·4·10/40 = 100.
    sdg7 = card_of(sdg7=(None,)).dimensions["sdg7"]
    assert sdg7.coverage == 0
    assert sdg7.covered is False
    assert sdg7.value is None
    assert sdg7.low == 0
    assert sdg7.high == 100


def test_not_applicable_leaves_numerator_and_denominator():
    # sdg7: S7.1=4 (w3), S7.2 N/A (w2), S7.3=2 (w2), S7.4=2 (w1), S7.5=2 (w2).
    # C = A = {S7.1, S7.3, S7.4, S7.5}: W = 3+2+1+2 = 8; S = 12+4+2+4 = 22.
    # value = low = high = 100·22/(4·8) = 2200/32 = 68.75; coverage 8/8 = 1.
    # (N/A as 0 would give 2200/40 = 55; N/A as missing would give low 55, high 75.)
    sdg7 = card_of(sdg7=(4, NA, 2, 2, 2)).dimensions["sdg7"]
    assert sdg7.value == sdg7.low == sdg7.high == F(275, 4)
    assert sdg7.coverage == 1
    assert sdg7.applicable is True


def test_not_applicable_risk_criterion_leaves_the_risk_mean():
    # debris: D1=2 (w3), D2=2 (w2), D3=2 (w2), D4 N/A (w1), D5 N/A (w2).
    # S = 6+4+4 = 14; W = 7 -> value = 1400/28 = 50 (as 0 it would be 1400/40 = 35).
    debris = card_of(debris=(2, 2, 2, NA, NA)).dimensions["debris"]
    assert debris.value == debris.low == debris.high == 50
    assert debris.level == "elevated"


# --- dimensions whose criteria are all N/A ---------------------------------------------------


def test_all_not_applicable_sdg_dimension_drops_out_of_the_impact_mean():
    # sdg7 all 4 -> 100; sdg9 all 2 -> 50; sdg12 all N/A; risks all 0.
    # I = (100 + 50)/2 = 75 (weights 1/3, 1/3 renormalised to 1/2, 1/2), not (100+50+0)/3 = 50.
    # N = 75·1·1 = 75 -> A.
    card = card_of(sdg7=(4,), sdg9=(2,), sdg12=ALL_NA)
    sdg12 = card.dimensions["sdg12"]
    assert sdg12.applicable is False
    assert sdg12.covered is True
    assert sdg12.coverage == 1
    assert (sdg12.value, sdg12.low, sdg12.high) == (None, None, None)
    assert card.status == RATED
    assert card.impact == card.impact_low == card.impact_high == 75
    assert card.net == card.net_low == card.net_high == 75
    assert card.grade == "A"
    assert card.as_dict()["dimensions"]["sdg12"] == {
        "value": None,
        "low": None,
        "high": None,
        "coverage": 1.0,
        "applicable": False,
    }


def test_two_all_not_applicable_sdg_dimensions_leave_the_third_as_the_impact():
    # sdg7 and sdg12 all N/A; sdg9 all 3 -> 75. I = 75/1 = 75.
    card = card_of(sdg7=ALL_NA, sdg9=(3,), sdg12=ALL_NA)
    assert card.status == RATED
    assert card.impact == 75
    assert card.net == 75


def test_partially_missing_sdg_dimension_stays_in_the_impact_range_with_renormalised_weights():
    # sdg12 all N/A; sdg7 = (2,2,2,None,None): low 35, high 65 (see test_net_range...);
    # sdg9 all 2: 50. I_low = (35+50)/2 = 42.5; I_high = (65+50)/2 = 57.5.
    card = card_of(sdg7=(2, 2, 2, None, None), sdg12=ALL_NA)
    assert card.impact_low == F(85, 2)
    assert card.impact_high == F(115, 2)


def test_all_not_applicable_risk_dimension_scores_zero_risk():
    # debris all N/A -> value = low = high = 0, level low, not severe.
    # sdg all 2 -> I = 50; equity all 2 -> 50.
    # N = 50 · (1 − 0.5·0/100) · (1 − 0.5·50/100) = 50 · 1 · 0.75 = 37.5 -> D.
    card = card_of(debris=ALL_NA, equity=(2,))
    debris = card.dimensions["debris"]
    assert (debris.value, debris.low, debris.high) == (0, 0, 0)
    assert debris.coverage == 1
    assert debris.covered is True
    assert debris.applicable is False
    assert debris.level == "low"
    assert debris.severe is False
    assert card.status == RATED
    assert card.net == card.net_low == card.net_high == F(75, 2)
    assert card.grade == "D"
    assert card.as_dict()["dimensions"]["debris"] == {
        "value": 0.0,
        "low": 0.0,
        "high": 0.0,
        "coverage": 1.0,
        "applicable": False,
        "level": "low",
        "severe": False,
    }


# --- coverage threshold ----------------------------------------------------------------------


def test_coverage_exactly_one_half_is_covered():
    # sdg7: S7.1=2 (w3), S7.3=2 (w2) rated; S7.2, S7.4, S7.5 missing.
    # coverage = 5/10 = 1/2 >= 1/2 -> covered.
    # value = 100·(6+4)/(4·5) = 50; low = 1000/40 = 25; high = 100·(10 + 4·5)/40 = 75.
    # Others all 2 / risks 0: I = (50+50+50)/3 = 50, rated, N = 50 -> C.
    card = card_of(sdg7=(2, None, 2, None, None))
    sdg7 = card.dimensions["sdg7"]
    assert sdg7.coverage == F(1, 2)
    assert sdg7.covered is True
    assert (sdg7.value, sdg7.low, sdg7.high) == (50, 25, 75)
    assert card.status == RATED
    assert card.net == 50
    assert card.grade == "C"
    assert card.as_dict()["dimensions"]["sdg7"]["value"] == 50.0


def test_coverage_just_below_one_half_is_not_covered():
    # sdg7: S7.4 N/A (w1); S7.2=4 (w2), S7.3=4 (w2) rated; S7.1 (w3), S7.5 (w2) missing.
    # W_C = 3+2+2+2 = 9, W_A = 4: coverage 4/9 ≈ 0.444 (the largest achievable below 1/2).
    # value null (not served); low = 100·16/36 = 400/9 ≈ 44.4; high = 100·(16+4·5)/36 = 100.
    card = card_of(sdg7=(None, 4, 4, NA, None))
    sdg7 = card.dimensions["sdg7"]
    assert sdg7.coverage == F(4, 9)
    assert sdg7.covered is False
    assert sdg7.value is None
    assert sdg7.low == F(400, 9)
    assert sdg7.high == 100
    assert card.status == INSUFFICIENT_DATA
    assert card.net is None
    assert card.grade is None
    served = card.as_dict()["dimensions"]["sdg7"]
    assert served == {
        "value": None,
        "low": 44.4,
        "high": 100.0,
        "coverage": 0.44,
        "applicable": True,
    }


def test_uncovered_risk_dimension_serves_no_value_and_no_level_but_its_range():
    # debris: D4=2 (w1), D5=2 (w2) rated, D1..D3 missing: coverage 3/10 < 1/2.
    # low = 100·(2+4)/40 = 15; high = 100·(6 + 4·7)/40 = 85.
    card = card_of(debris=(None, None, None, 2, 2))
    served = card.as_dict()["dimensions"]["debris"]
    assert served == {
        "value": None,
        "low": 15.0,
        "high": 85.0,
        "coverage": 0.3,
        "applicable": True,
        "level": None,
        "severe": False,
    }
    assert card.status == INSUFFICIENT_DATA


def test_severe_flag_is_raised_even_on_an_uncovered_risk_dimension():
    # debris: D4=4 only (coverage 1/10): "raised when any of its criteria is rated 4".
    card = card_of(debris=(None, None, None, 4, None))
    debris = card.dimensions["debris"]
    assert debris.covered is False
    assert debris.severe is True
    assert debris.level is None
    assert card.as_dict()["dimensions"]["debris"]["severe"] is True


# --- impact and net --------------------------------------------------------------------------


def test_impact_is_the_equally_weighted_mean_of_the_sdg_values():
    # sdg7 all 4 -> 100.
    # sdg9 (4,0,2,4,1): S = 3·4 + 2·0 + 2·2 + 1·4 + 2·1 = 12+0+4+4+2 = 22 -> 25·22/10 = 55.
    # sdg12 all 1 -> 25.
    # I = (100 + 55 + 25)/3 = 60; risks 0 -> N = 60 -> B.
    card = card_of(sdg7=(4,), sdg9=(4, 0, 2, 4, 1), sdg12=(1,))
    assert card.dimensions["sdg9"].value == 55
    assert card.impact == 60
    assert card.net == 60
    assert card.grade == "B"


def test_impact_mean_over_values_with_different_denominators():
    # sdg7 (4,2,0,None,None) -> 400/7 (see above); sdg9 all 4 -> 100; sdg12 all 0 -> 0.
    # I = (400/7 + 100 + 0)/3 = (1100/7)/3 = 1100/21 ≈ 52.38 -> 52.4; N = I -> C.
    card = card_of(sdg7=(4, 2, 0, None, None), sdg9=(4,), sdg12=(0,))
    assert card.impact == F(1100, 21)
    assert card.as_dict()["overall"]["value"] == 52.4
    assert card.grade == "C"


def test_net_score_discounts_impact_by_each_risk_with_alpha_one_half():
    # sdg all 2 -> I = 50; debris all 2 -> 50; equity all 1 -> 25.
    # N = 50 · (1 − 0.5·50/100) · (1 − 0.5·25/100) = 50 · 0.75 · 0.875 = 32.8125 -> 32.8, D.
    # (alpha = 1 would give 50 · 0.5 · 0.75 = 18.75.)
    card = card_of(debris=(2,), equity=(1,))
    assert card.net == F(328125, 10000)
    assert card.as_dict()["overall"]["value"] == 32.8
    assert card.grade == "D"


def test_maximal_risk_halves_impact_twice():
    # Everything rated 4: I = 100, R_debris = R_equity = 100:
    # N = 100 · (1 − 0.5) · (1 − 0.5) = 25 -> D (the severe cap "at most D" changes nothing).
    card = card_of(sdg7=(4,), sdg9=(4,), sdg12=(4,), debris=(4,), equity=(4,))
    assert card.net == 25
    assert card.grade == "D"


def test_net_range_uses_high_risk_for_the_low_end_and_low_risk_for_the_high_end():
    # sdg7 (2,2,2,None,None): S = 2·(3+2+2) = 14, W_A = 7, W_C = 10
    #   value = 1400/28 = 50, low = 1400/40 = 35, high = 100·(14 + 4·3)/40 = 65.
    # sdg9, sdg12 all 2 -> 50.
    #   I = 50, I_low = (35+50+50)/3 = 45, I_high = (65+50+50)/3 = 55.
    # debris (2,2,2,None,None): same arithmetic -> value 50, low 35, high 65 (elevated).
    # equity (0,None,0,0,0): E2 (w3) missing, S = 0, W_A = 7 -> value 0, low 0,
    #   high = 100·4·3/40 = 30 (low).
    # N      = 50 · (1 − 0.5·50/100) · (1 − 0.5·0/100)  = 50 · 0.75               = 37.5
    # N_low  = 45 · (1 − 0.5·65/100) · (1 − 0.5·30/100) = 45 · 0.675 · 0.85       = 25.81875
    # N_high = 55 · (1 − 0.5·35/100) · (1 − 0.5·0/100)  = 55 · 0.825              = 45.375
    # (N_low with the low risk values would be 45 · 0.825 = 37.125.)
    # Grade: 25 <= 37.5 < 40 -> D.
    # Confidence (all grade B): sdg7, debris, equity 7·0.75/10 = 0.525; sdg9, sdg12 0.75;
    #   mean = (3·0.525 + 2·0.75)/5 = 3.075/5 = 0.615 -> medium, served 0.62 (half-up).
    card = card_of(
        sdg7=(2, 2, 2, None, None),
        debris=(2, 2, 2, None, None),
        equity=(0, None, 0, 0, 0),
    )
    assert (card.impact, card.impact_low, card.impact_high) == (50, 45, 55)
    assert card.net == F(75, 2)
    assert card.net_low == F(2581875, 100000)
    assert card.net_high == F(45375, 1000)
    assert card.status == RATED
    assert card.grade == "D"
    assert card.grade_cap is None
    assert card.confidence == F(123, 200)
    assert card.confidence_label == "medium"

    served = card.as_dict()
    assert served["methodology"] == "1.0"
    assert served["status"] == "rated"
    assert served["confidence"] == "medium"
    assert served["confidence_score"] == 0.62
    assert served["overall"] == {
        "value": 37.5,
        "low": 25.8,
        "high": 45.4,
        "grade": "D",
        "grade_cap": None,
    }
    sdg_full = {"value": 50.0, "low": 50.0, "high": 50.0, "coverage": 1.0, "applicable": True}
    assert served["dimensions"] == {
        "sdg7": {"value": 50.0, "low": 35.0, "high": 65.0, "coverage": 0.7, "applicable": True},
        "sdg9": sdg_full,
        "sdg12": sdg_full,
        "debris": {
            "value": 50.0,
            "low": 35.0,
            "high": 65.0,
            "coverage": 0.7,
            "applicable": True,
            "level": "elevated",
            "severe": False,
        },
        "equity": {
            "value": 0.0,
            "low": 0.0,
            "high": 30.0,
            "coverage": 0.7,
            "applicable": True,
            "level": "low",
            "severe": False,
        },
    }


# --- status ----------------------------------------------------------------------------------


def test_fully_rated_project_is_rated():
    assert card_of().status == RATED


def test_no_ratings_at_all_is_insufficient_data_with_the_widest_ranges():
    # Every dimension: coverage 0, value null, low 0, high 100.
    # I_low = 0, I_high = 100; N_low = 0 · 0.5 · 0.5 = 0; N_high = 100 · 1 · 1 = 100.
    # Confidence: every dimension has applicable criteria, each share 0/10 = 0 -> 0, "low".
    card = score(METHOD, [])
    assert card.status == INSUFFICIENT_DATA
    for dimension in card.dimensions.values():
        assert dimension.coverage == 0
        assert dimension.value is None
        assert (dimension.low, dimension.high) == (0, 100)
    assert card.dimensions["debris"].level is None
    assert card.net is None
    assert card.grade is None
    assert (card.net_low, card.net_high) == (0, 100)
    assert (card.impact_low, card.impact_high) == (0, 100)
    assert card.confidence == 0
    assert card.confidence_label == "low"
    served = card.as_dict()
    assert served["overall"] == {
        "value": None,
        "low": 0.0,
        "high": 100.0,
        "grade": None,
        "grade_cap": None,
    }


def test_one_uncovered_risk_dimension_makes_the_project_insufficient_data():
    # equity: E1 (w2), E5 (w2) rated: coverage 4/10 -> not covered -> insufficient_data;
    # adding E3 (w2): 6/10 -> covered -> rated.
    uncovered = card_of(equity=(1, None, None, None, 1))
    covered = card_of(equity=(1, None, 1, None, 1))
    assert uncovered.status == INSUFFICIENT_DATA
    assert uncovered.net is None and uncovered.grade is None
    assert uncovered.net_low is not None and uncovered.net_high is not None
    assert covered.status == RATED
    # equity (1,None,1,None,1): S = 2+2+2 = 6, W_A = 6 -> 25; I = 50:
    # N = 50 · (1 − 0.5·25/100) = 50 · 0.875 = 43.75 -> C.
    assert covered.net == F(4375, 100)
    assert covered.grade == "C"


def test_one_uncovered_sdg_dimension_makes_the_project_insufficient_data():
    card = card_of(sdg9=(4, None, None, None, None))  # coverage 3/10
    assert card.status == INSUFFICIENT_DATA
    assert card.net is None
    assert card.grade is None
    # Ranges still shown: sdg9 low = 100·12/40 = 30, high = 100·(12 + 4·7)/40 = 100.
    # I_low = (50+30+50)/3 = 130/3, I_high = (50+100+50)/3 = 200/3; risks 0 -> N = I.
    assert card.net_low == F(130, 3)
    assert card.net_high == F(200, 3)
    assert card.as_dict()["overall"]["low"] == 43.3
    assert card.as_dict()["overall"]["high"] == 66.7


def test_no_applicable_sdg_dimension_is_insufficient_data_even_when_all_covered():
    card = card_of(sdg7=ALL_NA, sdg9=ALL_NA, sdg12=ALL_NA, debris=(1,))
    assert all(d.covered for d in card.dimensions.values())
    assert card.status == INSUFFICIENT_DATA
    assert card.impact is None
    assert (card.net, card.net_low, card.net_high) == (None, None, None)
    assert card.grade is None
    # Risk dimensions are still scored (debris all 1 -> 25), and confidence is the mean over
    # the two risk dimensions, both all grade B: (0.75 + 0.75)/2 = 0.75.
    assert card.dimensions["debris"].value == 25
    assert card.confidence == F(3, 4)
    assert card.as_dict()["overall"] == {
        "value": None,
        "low": None,
        "high": None,
        "grade": None,
        "grade_cap": None,
    }


def test_everything_not_applicable_has_no_confidence():
    card = score(METHOD, [Rating(c, not_applicable=True) for codes in CODES.values() for c in codes])
    assert card.status == INSUFFICIENT_DATA
    assert card.confidence is None
    assert card.confidence_label is None
    served = card.as_dict()
    assert served["confidence"] is None
    assert served["confidence_score"] is None


# --- risk levels -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("debris", "value", "level"),
    [
        # all 0: S = 0 -> 0 -> low
        ((0, 0, 0, 0, 0), F(0), "low"),
        # D1=1 (w3), D2=2 (w2), D3=0, D4 missing, D5=0: S = 3+4 = 7, W_A = 9 (coverage 0.9)
        # value = 25·7/9 = 175/9 ≈ 19.44 (the largest achievable value below 20) -> low
        ((1, 2, 0, None, 0), F(175, 9), "low"),
        # D2=2, D3=2: S = 4+4 = 8, W = 10 -> 25·8/10 = 20 exactly -> moderate
        ((0, 2, 2, 0, 0), F(20), "moderate"),
        # D1=3, D2=1, D3=0 rated, D4, D5 missing: S = 9+2 = 11, W_A = 7 -> 275/7 ≈ 39.29
        ((3, 1, 0, None, None), F(275, 7), "moderate"),
        # D1..D4 = 2, D5 = 0: S = 6+4+4+2 = 16 -> 40 exactly -> elevated
        ((2, 2, 2, 2, 0), F(40), "elevated"),
        # D1=3, D2=3, D3=2, D4=0, D5 missing: S = 9+6+4 = 19, W_A = 8 -> 475/8 = 59.375
        ((3, 3, 2, 0, None), F(475, 8), "elevated"),
        # D1..D4 = 3, D5 = 0: S = 9+6+6+3 = 24 -> 60 exactly -> high (no criterion at 4)
        ((3, 3, 3, 3, 0), F(60), "high"),
        # all 3: 75 -> high
        ((3, 3, 3, 3, 3), F(75), "high"),
    ],
)
def test_debris_risk_level_bands(debris, value, level):
    dimension = card_of(debris=debris).dimensions["debris"]
    assert dimension.value == value
    assert dimension.level == level
    assert dimension.severe is False


@pytest.mark.parametrize(
    ("equity", "value", "level"),
    [
        # E1=2 (w2), E3=2 (w2): S = 8 -> 20 -> moderate
        ((2, 0, 2, 0, 0), F(20), "moderate"),
        # E1=1 (w2), E2=1 (w3), E3=1 (w2): S = 2+3+2 = 7 -> 17.5 -> low
        ((1, 1, 1, 0, 0), F(35, 2), "low"),
        # E1..E4 = 2, E5 = 0: S = 4+6+4+2 = 16 -> 40 -> elevated
        ((2, 2, 2, 2, 0), F(40), "elevated"),
        # E1..E4 = 3, E5 = 0: S = 6+9+6+3 = 24 -> 60 -> high
        ((3, 3, 3, 3, 0), F(60), "high"),
    ],
)
def test_equity_risk_level_bands(equity, value, level):
    dimension = card_of(equity=equity).dimensions["equity"]
    assert dimension.value == value
    assert dimension.level == level


def test_severe_flag_forces_risk_level_high():
    # debris: D1=4 (w3), others 0: S = 12 -> 30, which by band is "moderate";
    # a criterion at 4 raises the severe flag and the level is at least high.
    card = card_of(debris=(4, 0, 0, 0, 0))
    debris = card.dimensions["debris"]
    assert debris.value == 30
    assert debris.severe is True
    assert debris.level == "high"
    served = card.as_dict()["dimensions"]["debris"]
    assert (served["value"], served["level"], served["severe"]) == (30.0, "high", True)


def test_severe_flag_on_equity_forces_high_even_from_the_low_band():
    # equity: E4=4 (w1), others 0: S = 4 -> 10 (band: low) -> severe -> high.
    equity = card_of(equity=(0, 0, 0, 4, 0)).dimensions["equity"]
    assert equity.value == 10
    assert equity.severe is True
    assert equity.level == "high"


def test_level_three_does_not_raise_the_severe_flag():
    # debris: D1=3 (w3): S = 9 -> 22.5 -> moderate, not severe.
    debris = card_of(debris=(3, 0, 0, 0, 0)).dimensions["debris"]
    assert debris.value == F(45, 2)
    assert debris.severe is False
    assert debris.level == "moderate"


# --- grades ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sdg7", "sdg9", "sdg12", "net", "grade"),
    [
        # 100 + 60 + 50: sdg9 (2,3,3,2,2): S = 6+6+6+2+4 = 24 -> 60. I = 210/3 = 70 -> A
        ((4,), (2, 3, 3, 2, 2), (2,), F(70), "A"),
        # sdg9 (2,3,3,1,2): S = 6+6+6+1+4 = 23 -> 57.5. I = 207.5/3 = 415/6 ≈ 69.17 -> B
        ((4,), (2, 3, 3, 1, 2), (2,), F(415, 6), "B"),
        # 50 + 65 + 50: sdg9 (4,2,2,2,2): S = 12+4+4+2+4 = 26 -> 65. I = 165/3 = 55 -> B
        ((2,), (4, 2, 2, 2, 2), (2,), F(55), "B"),
        # sdg9 (3,3,2,2,2): S = 9+6+4+2+4 = 25 -> 62.5. I = 162.5/3 = 325/6 ≈ 54.17 -> C
        ((2,), (3, 3, 2, 2, 2), (2,), F(325, 6), "C"),
        # 50 + 20 + 50: sdg9 (0,2,2,0,0): S = 4+4 = 8 -> 20. I = 120/3 = 40 -> C
        ((2,), (0, 2, 2, 0, 0), (2,), F(40), "C"),
        # sdg9 (0,2,1,1,0): S = 4+2+1 = 7 -> 17.5. I = 117.5/3 = 235/6 ≈ 39.17 -> D
        ((2,), (0, 2, 1, 1, 0), (2,), F(235, 6), "D"),
        # all 1: 25 + 25 + 25 -> I = 25 -> D
        ((1,), (1,), (1,), F(25), "D"),
        # sdg7 (1,1,1,0,1): S = 3+2+2+0+2 = 9 -> 22.5. I = 72.5/3 = 145/6 ≈ 24.17 -> E
        ((1, 1, 1, 0, 1), (1,), (1,), F(145, 6), "E"),
        # all 0 -> 0 -> E
        ((0,), (0,), (0,), F(0), "E"),
    ],
)
def test_grade_bands_at_exact_boundaries(sdg7, sdg9, sdg12, net, grade):
    # Risks all 0, so N = I exactly.
    card = card_of(sdg7=sdg7, sdg9=sdg9, sdg12=sdg12)
    assert card.net == net
    assert card.grade == grade
    assert card.grade_cap is None


def test_grade_at_a_boundary_reached_through_the_risk_discount():
    # debris (2,2,2,2,0): S = 6+4+4+2 = 16 -> 40 (elevated, no cap); factor 1 − 0.5·40/100 = 0.8.
    # sdg all 4 -> I = 100 -> N = 80; sdg all 2 -> I = 50 -> N = 40 exactly -> C.
    assert card_of(sdg7=(4,), sdg9=(4,), sdg12=(4,), debris=(2, 2, 2, 2, 0)).net == 80
    card = card_of(debris=(2, 2, 2, 2, 0))
    assert card.net == 40
    assert card.grade == "C"


def test_high_risk_level_caps_grade_at_c():
    # sdg all 4 -> I = 100. debris (3,3,3,3,0) -> 60 (high, no criterion at 4).
    # N = 100 · (1 − 0.5·60/100) = 70 -> band A -> capped at C.
    card = card_of(sdg7=(4,), sdg9=(4,), sdg12=(4,), debris=(3, 3, 3, 3, 0))
    assert card.net == 70
    assert card.dimensions["debris"].level == "high"
    assert card.grade == "C"
    assert card.grade_cap == "risk_level_high"
    assert card.as_dict()["overall"]["grade"] == "C"
    assert card.as_dict()["overall"]["grade_cap"] == "risk_level_high"


def test_elevated_risk_level_does_not_cap():
    # sdg all 4 -> I = 100; debris 475/8 = 59.375 (elevated, see the bands above).
    # N = 100 · (1 − 59.375/200) = 100 · 0.703125 = 70.3125 -> A, no cap.
    card = card_of(sdg7=(4,), sdg9=(4,), sdg12=(4,), debris=(3, 3, 2, 0, None))
    assert card.net == F(703125, 10000)
    assert card.grade == "A"
    assert card.grade_cap is None


def test_high_risk_level_cap_never_improves_a_lower_grade():
    # sdg all 2 -> I = 50; equity (3,3,3,3,0) -> 60, high.
    # N = 50 · 0.7 = 35 -> D; the cap "at most C" leaves D.
    card = card_of(equity=(3, 3, 3, 3, 0))
    assert card.net == 35
    assert card.grade == "D"
    assert card.grade_cap is None


def test_any_risk_criterion_rated_4_caps_grade_at_d():
    # sdg all 4 -> I = 100; debris D4=4 (w1), others 0: S = 4 -> 10; severe -> level high.
    # N = 100 · (1 − 0.5·10/100) = 95 -> band A -> at most C (high) and at most D (4) -> D.
    card = card_of(sdg7=(4,), sdg9=(4,), sdg12=(4,), debris=(0, 0, 0, 4, 0))
    assert card.net == 95
    assert card.grade == "D"
    assert card.grade_cap == "severe_rating"


def test_equity_criterion_rated_4_caps_grade_at_d_from_c():
    # sdg all 2 -> I = 50; equity E4=4 (w1): 10 -> N = 50 · 0.95 = 47.5 -> C -> D.
    card = card_of(equity=(0, 0, 0, 4, 0))
    assert card.net == F(95, 2)
    assert card.grade == "D"
    assert card.grade_cap == "severe_rating"


def test_severe_cap_never_improves_grade_e():
    # sdg all 0 -> I = 0 -> E; debris D4=4 changes nothing.
    card = card_of(sdg7=(0,), sdg9=(0,), sdg12=(0,), debris=(0, 0, 0, 4, 0))
    assert card.grade == "E"
    assert card.grade_cap is None


def test_sdg_criterion_rated_4_does_not_cap():
    card = card_of(sdg7=(4,), sdg9=(4,), sdg12=(4,))
    assert card.net == 100
    assert card.grade == "A"
    assert card.grade_cap is None
    assert not any(card.dimensions[k].severe for k in CODES)


# --- confidence ------------------------------------------------------------------------------


def test_confidence_exactly_three_quarters_is_high():
    # All B, full coverage: every share = 10·0.75/10 = 0.75 -> mean 0.75 -> high.
    card = card_of(grade="B")
    assert card.confidence == F(3, 4)
    assert card.confidence_label == "high"
    assert card.as_dict()["confidence_score"] == 0.75


def test_confidence_just_below_three_quarters_is_medium_though_served_as_075():
    # All B except S7.4 (w1) graded C: sdg7 share = (9·0.75 + 1·0.5)/10 = 7.25/10 = 29/40.
    # Mean = (4·0.75 + 0.725)/5 = 3.725/5 = 0.745 = 149/200 -> medium (decided unrounded);
    # served confidence_score 0.745 -> 0.75 (half-up; float round() would give 0.74).
    ratings = [r for r in dim("sdg7", 2) if r.code != "S7.4"] + [Rating("S7.4", 2, "C")]
    for key in ("sdg9", "sdg12", "debris", "equity"):
        ratings += dim(key, 2)
    card = score(METHOD, ratings)
    assert card.confidence == F(149, 200)
    assert card.confidence_label == "medium"
    assert card.as_dict()["confidence"] == "medium"
    assert card.as_dict()["confidence_score"] == 0.75


def test_confidence_exactly_one_half_is_medium():
    card = card_of(grade="C")
    assert card.confidence == F(1, 2)
    assert card.confidence_label == "medium"


def test_confidence_just_below_one_half_is_low():
    # All C except S7.4 (w1) graded D: sdg7 share = (9·0.5 + 0.25)/10 = 4.75/10 = 19/40.
    # Mean = (4·0.5 + 0.475)/5 = 2.475/5 = 0.495 = 99/200 -> low; served 0.5 (half-up).
    ratings = [r for r in dim("sdg7", 2, grade="C") if r.code != "S7.4"]
    ratings.append(Rating("S7.4", 2, "D"))
    for key in ("sdg9", "sdg12", "debris", "equity"):
        ratings += dim(key, 2, grade="C")
    card = score(METHOD, ratings)
    assert card.confidence == F(99, 200)
    assert card.confidence_label == "low"
    assert card.as_dict()["confidence_score"] == 0.5


def test_confidence_all_grade_a_is_one_and_all_grade_d_is_a_quarter():
    assert card_of(grade="A").confidence == 1
    assert card_of(grade="A").confidence_label == "high"
    assert card_of(grade="D").confidence == F(1, 4)
    assert card_of(grade="D").confidence_label == "low"


def test_confidence_weights_evidence_by_criterion_weight():
    # sdg7: S7.1 (w3) grade A, S7.2..S7.5 (w 2+2+1+2 = 7) grade D:
    #   share = (3·1 + 7·0.25)/10 = 4.75/10 = 0.475 (plain mean would be (1 + 4·0.25)/5 = 0.4).
    # Others all A -> 1. Mean = (0.475 + 4)/5 = 4.475/5 = 0.895 = 179/200.
    ratings = [Rating("S7.1", 2, "A")] + [Rating(c, 2, "D") for c in CODES["sdg7"][1:]]
    for key in ("sdg9", "sdg12", "debris", "equity"):
        ratings += dim(key, 2, grade="A")
    assert score(METHOD, ratings).confidence == F(179, 200)


def test_missing_criteria_count_as_zero_quality_in_confidence():
    # sdg7: S7.1 (w3) and S7.3 (w2) grade A, rest missing: share = 5/10 = 0.5.
    # Others all A. Mean = (0.5 + 4)/5 = 0.9.
    card = card_of(sdg7=(2, None, 2, None, None), grade="A")
    assert card.confidence == F(9, 10)
    assert card.confidence_label == "high"


def test_not_applicable_criteria_leave_the_confidence_share():
    # sdg7: S7.1 grade A, S7.2..S7.5 N/A: share = 3·1/3 = 1. All A -> 1.
    card = card_of(sdg7=(2, NA, NA, NA, NA), grade="A")
    assert card.confidence == 1


def test_all_not_applicable_dimension_drops_out_of_the_confidence_mean():
    # sdg12 all N/A; sdg7 all A (1), sdg9 all D (0.25), debris and equity all C (0.5).
    # Mean over the 4 applicable dimensions = (1 + 0.25 + 0.5 + 0.5)/4 = 2.25/4 = 9/16
    # (counting sdg12 as 0 would give 9/20, as 1 would give 13/20).
    ratings = (
        dim("sdg7", 2, grade="A")
        + dim("sdg9", 2, grade="D")
        + dim("sdg12", NA)
        + dim("debris", 2, grade="C")
        + dim("equity", 2, grade="C")
    )
    card = score(METHOD, ratings)
    assert card.confidence == F(9, 16)
    assert card.confidence_label == "medium"
    assert card.as_dict()["confidence_score"] == 0.56


def test_confidence_does_not_depend_on_the_levels():
    assert card_of(sdg7=(0,), debris=(4,)).confidence == card_of().confidence == F(3, 4)


# --- rounding --------------------------------------------------------------------------------


def test_net_28_125_is_served_as_28_1():
    # sdg all 2 -> 50; debris all 2 -> 50; equity all 2 -> 50.
    # N = 50 · 0.75 · 0.75 = 28.125 -> 28.1 (one decimal, half-up: .025 < .05 rounds down).
    card = card_of(debris=(2,), equity=(2,))
    assert card.net == F(28125, 1000)
    assert card.as_dict()["overall"]["value"] == 28.1
    assert card.grade == "D"


def test_net_ending_in_exactly_25_hundredths_rounds_half_up():
    # sdg all 2 -> I = 50; debris D1=2 (w3), others 0: S = 6 -> 15; equity 0.
    # N = 50 · (1 − 0.5·15/100) = 50 · 0.925 = 46.25 exactly -> 46.3 (half-even would be 46.2).
    card = card_of(debris=(2, 0, 0, 0, 0))
    assert card.net == F(4625, 100)
    assert card.as_dict()["overall"]["value"] == 46.3


def test_dimension_value_ending_in_exactly_5_hundredths_rounds_half_up():
    # sdg7: S7.2 N/A; S7.4=2 (w1), S7.1, S7.3, S7.5 = 0: S = 2, W = 3+2+1+2 = 8.
    # value = low = high = 100·2/32 = 6.25 -> 6.3.
    card = card_of(sdg7=(0, NA, 0, 2, 0))
    assert card.dimensions["sdg7"].value == F(25, 4)
    served = card.as_dict()["dimensions"]["sdg7"]
    assert (served["value"], served["low"], served["high"]) == (6.3, 6.3, 6.3)


def test_coverage_and_range_rounding_half_up():
    # sdg9: S9.2 N/A; S9.1=2 (w3), S9.3=2 (w2) rated; S9.4 (w1), S9.5 (w2) missing.
    # W_C = 3+2+1+2 = 8, W_A = 5 -> coverage 5/8 = 0.625 -> 0.63.
    # S = 6+4 = 10: value = 1000/20 = 50; low = 1000/32 = 31.25 -> 31.3;
    # high = 100·(10 + 4·3)/32 = 2200/32 = 68.75 -> 68.8.
    card = card_of(sdg9=(2, NA, 2, None, None))
    served = card.as_dict()["dimensions"]["sdg9"]
    assert served == {
        "value": 50.0,
        "low": 31.3,
        "high": 68.8,
        "coverage": 0.63,
        "applicable": True,
    }


def test_thirds_are_served_to_one_decimal():
    # sdg7 all 4, sdg9 all 3, sdg12 all 0: I = (100 + 75 + 0)/3 = 175/3 = 58.333… -> 58.3.
    # sdg12 all 1 instead: (100 + 75 + 25)/3 = 200/3 = 66.666… -> 66.7.
    assert card_of(sdg7=(4,), sdg9=(3,), sdg12=(0,)).as_dict()["overall"]["value"] == 58.3
    assert card_of(sdg7=(4,), sdg9=(3,), sdg12=(1,)).as_dict()["overall"]["value"] == 66.7


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (F(28125, 1000), 1, 28.1),
        (F(4465, 100), 1, 44.7),  # 44.65 as a float is 44.6499…; exact half-up gives 44.7
        (F(4625, 100), 1, 46.3),
        (F(745, 1000), 2, 0.75),
        (F(1, 3), 1, 0.3),
        (F(2, 3), 1, 0.7),
        (F(1, 8), 2, 0.13),
        (F(0), 1, 0.0),
        (F(100), 1, 100.0),
        (None, 1, None),
    ],
)
def test_round_half_up(value, places, expected):
    assert round_half_up(value, places) == expected


def test_grade_is_decided_before_rounding():
    # sdg7 all 4 -> 100; sdg9 (3,3,3,2,4): S = 9+6+6+2+8 = 31 -> 77.5; sdg12 all 2 -> 50.
    # I = (100 + 77.5 + 50)/3 = 227.5/3 = 455/6.
    # debris (3,3,3,1,0): S = 9+6+6+1 = 22 -> 55 (elevated, no 4, no cap): factor 0.725.
    # N = 455/6 · 29/40 = 13195/240 = 2639/48 = 54.979166… -> served 55.0, but grade C (< 55).
    card = card_of(sdg7=(4,), sdg9=(3, 3, 3, 2, 4), debris=(3, 3, 3, 1, 0))
    assert card.net == F(2639, 48)
    assert card.grade == "C"
    assert card.grade_cap is None
    assert card.as_dict()["overall"]["value"] == 55.0
    assert card.as_dict()["overall"]["grade"] == "C"


def test_risk_level_is_decided_before_rounding():
    # debris (3,3,2,0,None): 475/8 = 59.375 is served 59.4 and is "elevated" (not high).
    card = card_of(debris=(3, 3, 2, 0, None))
    assert card.dimensions["debris"].level == "elevated"
    assert card.as_dict()["dimensions"]["debris"]["value"] == 59.4


# --- refused ratings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "code", "field"),
    [
        (Rating("S7.1", 5, "B"), "S7.1", "rating"),
        (Rating("S7.1", -1, "B"), "S7.1", "rating"),
        (Rating("S7.1", 2.5, "B"), "S7.1", "rating"),
        (Rating("S7.1", "2", "B"), "S7.1", "rating"),
        (Rating("S7.1", True, "B"), "S7.1", "rating"),
        (Rating("S7.1", False, "B"), "S7.1", "rating"),
        (Rating("D2", None, "B"), "D2", "rating"),  # neither a level nor N/A
        (Rating("D5", 0, not_applicable=True), "D5", "rating"),  # N/A with a level (even 0)
        (Rating("D5", 3, "B", not_applicable=True), "D5", "rating"),
        (Rating("S7.9", 2, "B"), "S7.9", "criterion"),
        (Rating("S8.1", 2, "B"), "S8.1", "criterion"),
        (Rating("s7.1", 2, "B"), "s7.1", "criterion"),
        (Rating("", 2, "B"), "", "criterion"),
        (Rating("E3", 2), "E3", "evidence_grade"),  # missing evidence grade
        (Rating("E3", 2, "E"), "E3", "evidence_grade"),
        (Rating("E3", 2, "b"), "E3", "evidence_grade"),
        (Rating("E3", 2, ""), "E3", "evidence_grade"),
    ],
)
def test_invalid_rating_is_refused_naming_criterion_and_field(bad, code, field):
    # The bad rating sits between valid ones of other criteria.
    ratings = dim("sdg9", 2) + [bad] + dim("sdg12", 2)
    with pytest.raises(RatingError) as raised:
        score(METHOD, ratings)
    assert raised.value.code == code
    assert raised.value.field == field
    assert code in str(raised.value)


@pytest.mark.parametrize(
    "duplicate",
    [
        [Rating("S7.1", 2, "B"), Rating("S7.1", 3, "B")],
        [Rating("S7.1", 2, "B"), Rating("S7.1", 2, "B")],
        [Rating("D5", not_applicable=True), Rating("D5", 1, "A")],
        [Rating("D5", not_applicable=True), Rating("D5", not_applicable=True)],
    ],
)
def test_a_criterion_rated_twice_is_refused(duplicate):
    with pytest.raises(RatingError) as raised:
        score(METHOD, dim("sdg9", 2) + duplicate)
    assert raised.value.code == duplicate[0].code
    assert raised.value.field == "criterion"


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("grade", ["A", "B", "C", "D"])
def test_every_level_0_to_4_with_every_evidence_grade_is_accepted(level, grade):
    # D1 and S7.1 (w3 each) alone: low = 100·3·level/40 = 7.5·level; value = 25·level.
    card = score(METHOD, [Rating("D1", level, grade), Rating("S7.1", level, grade)])
    for key in ("debris", "sdg7"):
        assert card.dimensions[key].low == F(15, 2) * level
        assert card.dimensions[key].coverage == F(3, 10)


def test_not_applicable_without_level_is_accepted():
    # debris: D5 N/A, nothing else: coverage 0/8; high = 100·4·8/32 = 100.
    card = score(METHOD, [Rating("D5", not_applicable=True), Rating("D1", 4, "A")])
    # With D1=4 (w3): coverage 3/8; low = 100·12/32 = 37.5; high = 100·(12 + 4·5)/32 = 100.
    debris = card.dimensions["debris"]
    assert debris.coverage == F(3, 8)
    assert debris.low == F(75, 2)
    assert debris.high == 100
