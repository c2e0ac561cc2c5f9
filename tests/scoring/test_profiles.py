"""Custom weighting profiles (the method's §9) in the engine: the official profile gives the
official card exactly; any profile gives what the test's own reading of §9 and §4 gives; bad
profiles are refused naming the field."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.scoring import Method, Profile, ProfileError, score, score_under
from tests.support.criteria import DIMENSION_OF, RISK_DIMENSIONS, SDG_DIMENSIONS, WEIGHTS
from tests.support.examples import examples
from tests.support.reference import MISSING, NA, grade_band, worse

from .method_fixture import METHOD_1_0
from .test_engine_properties import ANY_RATINGS, MOSTLY_RATED, to_ratings

METHOD = Method.from_dict(METHOD_1_0)


def reference_under(states: dict, dimensions: dict, alpha: F, criteria: dict) -> dict:
    """§9 read independently: criterion weights replaced (0: not applicable), the impact the
    weighted mean of the applicable SDG dimensions with a weight above 0, α in the penalty;
    everything else as docs/scoring.md."""
    weights = {code: criteria.get(code, weight) for code, weight in WEIGHTS.items()}
    states = {code: (NA if weights[code] == 0 else state) for code, state in states.items()}
    dims = {}
    for key in (*SDG_DIMENSIONS, *RISK_DIMENSIONS):
        applicable = [(weights[c], states[c]) for c in WEIGHTS if DIMENSION_OF[c] == key and states[c] != NA]
        assessed = [(w, s) for w, s in applicable if s != MISSING]
        w_c, w_a = sum(w for w, _ in applicable), sum(w for w, _ in assessed)
        s = sum(w * level for w, (level, _) in assessed)
        risk = key in RISK_DIMENSIONS
        covered = w_c == 0 or F(w_a, w_c) >= F(1, 2)
        value = F(100 * s, 4 * w_a) if (w_a and covered) else None
        if w_c == 0:
            value = F(0) if risk else None
        severe = risk and any(level == 4 for _, (level, _) in assessed)
        level = None
        if risk and covered:
            level = (
                "low" if value < 20 else "moderate" if value < 40 else "elevated" if value < 60 else "high"
            )
            level = "high" if severe else level
        dims[key] = {
            "applicable": w_c > 0,
            "covered": covered,
            "value": value,
            "level": level,
            "severe": severe,
        }
    sdg = [(dimensions[k], dims[k]) for k in SDG_DIMENSIONS if dims[k]["applicable"] and dimensions[k] > 0]
    rated = bool(sdg) and all(d["covered"] for d in dims.values())
    if not rated:
        return {"status": "insufficient_data", "net": None, "grade": None}
    impact = sum(w * d["value"] for w, d in sdg) / sum(w for w, _ in sdg)
    net = impact
    for key in RISK_DIMENSIONS:
        net *= 1 - alpha * dims[key]["value"] / 100
    grade = grade_band(net)
    if any(dims[k]["level"] == "high" for k in RISK_DIMENSIONS):
        grade = worse(grade, "C")
    if any(dims[k]["severe"] for k in RISK_DIMENSIONS):
        grade = worse(grade, "D")
    return {"status": "rated", "net": net, "grade": grade}


profiles = st.fixed_dictionaries(
    {
        "dimensions": st.fixed_dictionaries({key: st.integers(0, 5) for key in SDG_DIMENSIONS}).filter(
            lambda weights: any(weights.values())
        ),
        "alpha": st.fractions(min_value=0, max_value=1, max_denominator=20),
        "criteria": st.dictionaries(st.sampled_from(sorted(WEIGHTS)), st.integers(0, 10), max_size=8),
    }
)


@settings(max_examples=examples(300), deadline=None)
@given(ANY_RATINGS)
def test_the_official_profile_gives_the_official_card_exactly(states):
    ratings = to_ratings(states)
    assert score_under(METHOD, ratings, Profile.official(METHOD)) == score(METHOD, ratings)
    # The same weights written as the API takes them: equal weights, α 0.5.
    equal = Profile.from_values(METHOD, dimensions={"sdg7": 1, "sdg9": 1, "sdg12": 1}, alpha="0.5")
    assert score_under(METHOD, ratings, equal) == score(METHOD, ratings)


@settings(max_examples=examples(400), deadline=None)
@given(MOSTLY_RATED, profiles)
def test_any_profile_gives_what_section_9_says(states, profile):
    card = score_under(
        METHOD,
        to_ratings(states),
        Profile.from_values(METHOD, **profile),
    )
    expected = reference_under(states, profile["dimensions"], F(profile["alpha"]), profile["criteria"])
    assert (card.status, card.net, card.grade) == (expected["status"], expected["net"], expected["grade"])


@settings(max_examples=examples(100), deadline=None)
@given(MOSTLY_RATED, profiles, st.integers(2, 7))
def test_scaling_every_dimension_weight_changes_nothing(states, profile, factor):
    scaled = {**profile, "dimensions": {k: v * factor for k, v in profile["dimensions"].items()}}
    ratings = to_ratings(states)
    assert score_under(METHOD, ratings, Profile.from_values(METHOD, **scaled)) == score_under(
        METHOD, ratings, Profile.from_values(METHOD, **profile)
    )


def test_a_dimension_weighted_zero_drops_out_of_the_impact():
    states = {code: ((4, "A") if DIMENSION_OF[code] == "sdg7" else (0, "A")) for code in WEIGHTS}
    ratings = to_ratings(states)
    only_sdg7 = Profile.from_values(METHOD, dimensions={"sdg7": 1}, alpha=0)
    assert score_under(METHOD, ratings, only_sdg7).net == 100
    assert score(METHOD, ratings).net == F(100, 3)


def test_a_missing_criterion_weighted_zero_counts_as_not_applicable_too():
    """Found by the property test: S7.1 missing and weighted 0 must not count against coverage."""
    states = {code: (2, "B") for code in WEIGHTS} | {"S7.1": MISSING, "S7.2": MISSING, "S7.3": MISSING}
    ratings = to_ratings(states)
    assert score(METHOD, ratings).status == "insufficient_data"  # sdg7: 2 of 5 rated, under half the weight
    zeroed = Profile.from_values(
        METHOD, dimensions={"sdg7": 1, "sdg9": 1, "sdg12": 1}, alpha="0.5", criteria={"S7.1": 0, "S7.2": 0}
    )
    assert score_under(METHOD, ratings, zeroed) == score(
        METHOD, to_ratings({**states, "S7.1": NA, "S7.2": NA})
    )


def test_a_criterion_weighted_zero_counts_as_not_applicable():
    states = {code: (2, "B") for code in WEIGHTS}
    ratings = to_ratings(states)
    zeroed = Profile.from_values(
        METHOD, dimensions={"sdg7": 1, "sdg9": 1, "sdg12": 1}, alpha="0.5", criteria={"S7.1": 0}
    )
    na = to_ratings({**states, "S7.1": NA})
    assert score_under(METHOD, ratings, zeroed) == score(METHOD, na)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"dimensions": {"sdg7": -1}, "alpha": "0.5"},
            "dimensions.sdg7",
            "give a number from 0 to 100, not -1",
        ),
        ({"dimensions": {"sdg7": 0, "sdg9": 0}, "alpha": "0.5"}, "dimensions", "at least one dimension"),
        ({"dimensions": {"sdg8": 1}, "alpha": "0.5"}, "dimensions.sdg8", "unknown dimension"),
        ({"dimensions": {"debris": 1}, "alpha": "0.5"}, "dimensions.debris", "unknown dimension"),
        ({"dimensions": {"sdg7": "lots"}, "alpha": "0.5"}, "dimensions.sdg7", "give a number"),
        ({"dimensions": {"sdg7": True}, "alpha": "0.5"}, "dimensions.sdg7", "give a number"),
        ({"dimensions": {"sdg7": 1}, "alpha": "1.5"}, "alpha", "give a number from 0 to 1, not 1.5"),
        ({"dimensions": {"sdg7": 1}, "alpha": "nan"}, "alpha", "give a number"),
        ({"dimensions": {"sdg7": 1}, "alpha": "inf"}, "alpha", "give a number"),
        ({"dimensions": {"sdg7": "1e999999999"}, "alpha": 0}, "dimensions.sdg7", "give a number"),
        (
            {"dimensions": {"sdg7": "1e3"}, "alpha": 0},
            "dimensions.sdg7",
            "give a number from 0 to 100, not 1e3",
        ),
        ({"dimensions": {"sdg7": 1}, "alpha": 0, "criteria": {"X9": 1}}, "criteria.X9", "unknown criterion"),
        ({"dimensions": {"sdg7": 1}, "alpha": 0, "criteria": {"S7.1": 11}}, "criteria.S7.1", "0 to 10"),
        ({"dimensions": {"sdg7": 1}, "alpha": 0, "criteria": {"S7.1": 2.5}}, "criteria.S7.1", "whole number"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_field(values, field, message):
    with pytest.raises(ProfileError) as refused:
        Profile.from_values(METHOD, **values)
    assert refused.value.field == field
    assert message in refused.value.message
