"""A dimension profile scored from a card's stored dimension values (``score_values``), as the
custom rankings do at 100,000 projects, against ``score_under`` of the ratings themselves."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.scoring import (
    Method,
    Profile,
    Rating,
    exact_value,
    profile_tenths,
    round_half_up,
    score,
    score_under,
    score_values,
    value_scale,
)
from projects.scoring.uncertainty import dimension_values, encode
from tests.support.examples import examples

from .method_fixture import METHOD_1_0
from .test_engine_properties import ANY_RATINGS, MOSTLY_RATED, to_ratings
from .test_profiles import profiles

METHOD = Method.from_dict(METHOD_1_0)
KEYS = [dimension.key for dimension in METHOD.dimensions]


def stored(ratings) -> tuple[dict, dict]:
    """What an uncertainty run stores of a project (its float dimension values) and its card's
    severe flags: all the custom ranking reads."""
    floats = dimension_values(METHOD, encode(METHOD, [ratings]))[0]
    values = {
        key: None if np.isnan(value) else exact_value(METHOD, key, float(value))
        for key, value in zip(KEYS, floats, strict=True)
    }
    card = score(METHOD, ratings)
    return values, {key: card.dimensions[key].severe for key in KEYS}


@settings(max_examples=examples(400), deadline=None)
@given(ANY_RATINGS)
def test_the_exact_value_is_recovered_from_the_stored_float(states):
    ratings = to_ratings(states)
    card = score(METHOD, ratings)
    values, _ = stored(ratings)
    for key in KEYS:
        dimension = card.dimensions[key]
        if dimension.value is not None:
            assert values[key] == dimension.value


@settings(max_examples=examples(400), deadline=None)
@given(MOSTLY_RATED, profiles)
def test_a_dimension_profile_from_stored_values_is_score_under_the_ratings(states, profile):
    ratings = to_ratings(states)
    if score(METHOD, ratings).status != "rated":
        return  # the rankings hold rated projects only; a profile never rates another
    chosen = Profile.from_values(METHOD, dimensions=profile["dimensions"], alpha=profile["alpha"])
    values, severe = stored(ratings)
    found = score_values(METHOD, chosen, values, severe)
    card = score_under(METHOD, ratings, chosen)
    # And in tenths, as served, in integer arithmetic from the values as whole numbers.
    scale = value_scale(METHOD)
    integers = [None if values[key] is None else int(values[key] * scale) for key in KEYS]
    assert all(v is None or v == values[key] * scale for v, key in zip(integers, KEYS, strict=True))
    tenths = profile_tenths(METHOD, chosen)(integers)
    if card.status != "rated":
        assert found is None and tenths is None
    else:
        assert (found.net, found.grade, found.grade_cap) == (card.net, card.grade, card.grade_cap)
        assert tenths == round(round_half_up(card.net, 1) * 10)


@settings(max_examples=examples(200), deadline=None)
@given(MOSTLY_RATED)
def test_the_official_profile_from_stored_values_is_the_card(states):
    ratings = to_ratings(states)
    card = score(METHOD, ratings)
    if card.status != "rated":
        return
    values, severe = stored(ratings)
    found = score_values(METHOD, Profile.official(METHOD), values, severe)
    assert (found.net, found.grade, found.grade_cap) == (card.net, card.grade, card.grade_cap)


def test_a_float_the_method_cannot_give_is_refused():
    with pytest.raises(ValueError, match="sdg7"):
        exact_value(METHOD, "sdg7", 100 / 3 + 1e-6)
    assert exact_value(METHOD, "sdg7", 100 / 3) == F(100, 3)


def test_criterion_weights_need_the_ratings():
    profile = Profile.from_values(METHOD, dimensions={"sdg7": 1}, alpha=0, criteria={"S7.1": 3})
    with pytest.raises(ValueError, match="criterion weights"):
        score_values(METHOD, profile, dict.fromkeys(KEYS, F(50)), {})


SIMPLE_WEIGHTS = st.fixed_dictionaries(
    {key: st.sampled_from([0, 1, 2, 3, "0.5", "2.25", 7]) for key in ("sdg7", "sdg9", "sdg12")}
).filter(lambda weights: any(float(weight) for weight in weights.values()))


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=len(METHOD.criteria), max_size=len(METHOD.criteria)),
    SIMPLE_WEIGHTS,
    st.sampled_from(["0", "0.05", "0.3", "0.5", "0.75", "1", "0.123"]),
)
def test_exact_halves_round_up_in_tenths(levels, weights, alpha):
    """Simple weights often put a net exactly on a half tenth, where a float may fall either
    side: the integer path rounds it up, as the served net does."""
    ratings = [
        Rating(criterion.code, level, "A") for criterion, level in zip(METHOD.criteria, levels, strict=True)
    ]
    chosen = Profile.from_values(METHOD, dimensions=weights, alpha=alpha)
    card = score_under(METHOD, ratings, chosen)
    values, _ = stored(ratings)
    scale = value_scale(METHOD)
    integers = [None if values[key] is None else int(values[key] * scale) for key in KEYS]
    assert profile_tenths(METHOD, chosen)(integers) == round(round_half_up(card.net, 1) * 10)
