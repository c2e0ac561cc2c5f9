"""The uncertainty engine (the method's §8, projects/scoring/uncertainty.py): properties over
random catalogues, agreement of each scenario with the exact engine, determinism, and the Monte
Carlo error of K scenarios (docs/scoring.md, "Uncertainty and rank stability")."""

from __future__ import annotations

import dataclasses
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.scoring import Method, Rating, score
from projects.scoring.engine import RatingError, validate_ratings
from projects.scoring.uncertainty import (
    MISSING,
    NOT_APPLICABLE,
    Encoded,
    _Model,
    dimension_values,
    encode,
    encode_parts,
    order_statistic_error,
    position,
    uncertainty,
)
from tests.support.examples import examples

from .method_fixture import METHOD_1_0
from .test_engine_properties import rating_sets, to_ratings

METHOD = Method.from_dict(METHOD_1_0)
SETTINGS = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
RATED_SETS = rating_sets(missing=1, not_applicable=1, rated=6)


def rated_catalogue(states_list) -> tuple[list[list[Rating]], list[str]]:
    """The rated projects among ``states_list``: their ratings and official grades."""
    projects, grades = [], []
    for states in states_list:
        ratings = to_ratings(states)
        card = score(METHOD, ratings)
        if card.grade is not None:
            projects.append(ratings)
            grades.append(card.grade)
    return projects, grades


@SETTINGS
@given(st.lists(RATED_SETS, min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_figures_are_ordered_bounded_and_shares_sum_to_one(states_list, seed):
    projects, grades = rated_catalogue(states_list)
    if not projects:
        return
    figures = uncertainty(METHOD, encode(METHOD, projects), grades, scenarios=200, seed=seed)
    count = len(projects)
    assert (figures.net[:, 0] <= figures.net[:, 1]).all() and (figures.net[:, 1] <= figures.net[:, 2]).all()
    assert ((figures.net >= 0) & (figures.net <= 100)).all()
    assert np.allclose(figures.grades.sum(axis=1), 1.0)
    assert (figures.rank[:, 0] <= figures.rank[:, 1]).all() and (
        figures.rank[:, 1] <= figures.rank[:, 2]
    ).all()
    assert ((figures.rank >= 1) & (figures.rank <= count)).all()
    assert ((figures.top10 >= 0) & (figures.top10 <= 1)).all()
    if count <= 10:
        assert (figures.top10 == 1).all()  # nobody can rank below 10th of ten or fewer
    official = [figures.grade_names.index(grade) for grade in grades]
    assert (figures.stable == (figures.grades[np.arange(count), official] >= 0.9)).all()


@SETTINGS
@given(rating_sets(missing=0, not_applicable=1, rated=4))
def test_all_grade_a_and_complete_with_fixed_weights_keeps_its_grade_in_every_scenario(states):
    states = {
        code: state if not isinstance(state, tuple) else (state[0], "A") for code, state in states.items()
    }
    projects, grades = rated_catalogue([states])
    if not projects:
        return
    figures = uncertainty(
        METHOD, encode(METHOD, projects), grades, scenarios=100, weight_spread=0.0, alpha_range=(0.5, 0.5)
    )
    official = score(METHOD, projects[0])
    assert figures.grades[0, figures.grade_names.index(grades[0])] == 1.0
    assert figures.stable[0]
    assert np.allclose(figures.net[0], float(official.net))


@SETTINGS
@given(st.lists(RATED_SETS, min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_each_scenario_is_the_exact_engine_on_its_drawn_levels_weights_and_alpha(states_list, seed):
    projects, _grades = rated_catalogue(states_list)
    if not projects:
        return
    encoded = encode(METHOD, projects)
    model = _Model(METHOD, 0.25, (0.4, 0.6))
    factors, alphas = model.shared(8, seed)
    generator = np.random.Generator(np.random.PCG64(seed))
    net, grade, drawn = model.nets_and_grades(
        encoded.levels, encoded.moves, factors, alphas, generator, keep_levels=True
    )
    for project in range(len(projects)):
        for scenario in range(len(alphas)):
            method = dataclasses.replace(
                METHOD,
                alpha=F(float(alphas[scenario])),
                dimensions=tuple(
                    dataclasses.replace(
                        spec, impact_weight=spec.impact_weight * F(float(factors[scenario][index]))
                    )
                    if spec.kind == "impact"
                    else spec
                    for index, spec in enumerate(METHOD.dimensions)
                ),
            )
            ratings = [
                Rating(criterion.code, not_applicable=True)
                if encoded.levels[project, position_] == NOT_APPLICABLE
                else Rating(criterion.code, int(drawn[project, scenario, position_]), "A")
                for position_, criterion in enumerate(METHOD.criteria)
            ]
            exact = score(method, ratings)
            assert abs(float(exact.net) - net[project, scenario]) < 1e-6
            if not any(abs(float(exact.net) - float(minimum)) < 1e-6 for _, minimum in METHOD.grade_bands):
                assert model.grade_names[grade[project, scenario]] == exact.grade


@SETTINGS
@given(st.lists(RATED_SETS, min_size=1, max_size=6))
def test_levels_move_only_where_the_evidence_allows_and_missing_ones_are_drawn(states_list):
    projects, _ = rated_catalogue(states_list)
    if not projects:
        return
    encoded = encode(METHOD, projects)
    model = _Model(METHOD, 0.25, (0.4, 0.6))
    factors, alphas = model.shared(50, 1)
    _net, _grade, drawn = model.nets_and_grades(
        encoded.levels,
        encoded.moves,
        factors,
        alphas,
        np.random.Generator(np.random.PCG64(2)),
        keep_levels=True,
    )
    levels = encoded.levels[:, None, :]
    assessed = levels >= 0
    assert (np.abs(drawn - levels)[np.broadcast_to(assessed, drawn.shape)] <= 1).all()
    grade_a = np.broadcast_to(assessed & (encoded.moves[:, None, :] == 0), drawn.shape)
    assert (drawn[grade_a] == np.broadcast_to(levels, drawn.shape)[grade_a]).all()
    assert ((drawn >= 0) & (drawn <= 4)).all()


def catalogue(count: int, seed: int = 3) -> tuple[Encoded, list[str]]:
    generator = np.random.default_rng(seed)
    projects, grades = [], []
    while len(projects) < count:
        ratings = []
        for criterion in METHOD.criteria:
            kind = generator.random()
            if kind < 0.08:
                continue  # missing
            level = int(generator.integers(0, 5))
            ratings.append(Rating(criterion.code, level, "ABCD"[int(generator.integers(0, 4))]))
        card = score(METHOD, ratings)
        if card.grade is not None:
            projects.append(ratings)
            grades.append(card.grade)
    return encode(METHOD, projects), grades


def test_the_same_data_method_and_seed_give_the_same_figures_and_another_seed_others():
    encoded, grades = catalogue(300)
    first = uncertainty(METHOD, encoded, grades, scenarios=200)
    again = uncertainty(METHOD, encoded, grades, scenarios=200)
    other = uncertainty(METHOD, encoded, grades, scenarios=200, seed=1)
    for name in ("net", "grades", "rank", "top10", "stable"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert not np.array_equal(first.net, other.net)


def test_doubling_k_moves_p5_and_p95_by_less_than_the_documented_monte_carlo_error():
    """The q-quantile of K scenarios lies, with 99% confidence, between the sorted scenarios at
    position ⌈qK⌉ ± order_statistic_error(K, q); the estimate from 2K scenarios falls inside."""
    encoded, grades = catalogue(40)
    scenarios = 1000
    model = _Model(METHOD, 0.25, (0.4, 0.6))
    factors, alphas = model.shared(scenarios, 11)
    net, _grade = model.nets_and_grades(
        encoded.levels, encoded.moves, factors, alphas, np.random.Generator(np.random.PCG64(12))
    )
    ordered = np.sort(net, axis=1)
    doubled = uncertainty(METHOD, encoded, grades, scenarios=2 * scenarios, seed=13)
    for column, q in ((0, 0.05), (2, 0.95)):
        error = order_statistic_error(scenarios, q)
        at = position(q, scenarios)
        low, high = ordered[:, max(at - error, 0)], ordered[:, min(at + error, scenarios - 1)]
        inside = (doubled.net[:, column] >= low - 1e-9) & (doubled.net[:, column] <= high + 1e-9)
        assert inside.mean() >= 0.95, (q, inside.mean())  # 99% each: a rare miss among 40 projects
    assert order_statistic_error(1000, 0.05) == 18  # documented in docs/scoring.md


def test_ranks_count_projects_strictly_better_so_ties_share_a_rank():
    ratings = [Rating(criterion.code, 2, "A") for criterion in METHOD.criteria]
    grade = score(METHOD, ratings).grade
    encoded = encode(METHOD, [ratings, ratings, ratings])
    figures = uncertainty(
        METHOD, encoded, [grade] * 3, scenarios=50, weight_spread=0.0, alpha_range=(0.5, 0.5)
    )
    assert (figures.rank == 1).all()  # three equal projects: all first, in every scenario


def test_quantile_positions_follow_the_method():
    assert [position(q, 1000) for q in (0.05, 0.5, 0.95)] == [49, 499, 949]  # ⌈qK⌉, counted from 1
    assert position(0.05, 10) == 0


def test_missing_criteria_are_drawn_uniformly():
    ratings = [Rating(criterion.code, 2, "A") for criterion in METHOD.criteria if criterion.code != "S7.1"]
    encoded = encode(METHOD, [ratings])
    assert encoded.levels[0, 0] == MISSING
    model = _Model(METHOD, 0.25, (0.4, 0.6))
    factors, alphas = model.shared(5000, 5)
    _n, _g, drawn = model.nets_and_grades(
        encoded.levels,
        encoded.moves,
        factors,
        alphas,
        np.random.Generator(np.random.PCG64(6)),
        keep_levels=True,
    )
    counts = np.bincount(drawn[0, :, 0].astype(int), minlength=5) / 5000
    assert np.allclose(counts, 0.2, atol=0.03)


def test_the_figures_do_not_depend_on_the_number_of_threads():
    encoded, grades = catalogue(700)  # three chunks
    one = uncertainty(METHOD, encoded, grades, scenarios=200, threads=1)
    three = uncertainty(METHOD, encoded, grades, scenarios=200, threads=3)
    for name in ("net", "grades", "rank", "top10", "stable"):
        assert np.array_equal(getattr(one, name), getattr(three, name)), name


def test_progress_is_reported_to_the_end():
    encoded, grades = catalogue(300)
    calls = []
    uncertainty(
        METHOD, encoded, grades, scenarios=100, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (5, 5)  # two chunks of scores, the ranks, two chunks of rank figures
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_score_exactly_on_a_grade_boundary_reaches_it_as_in_the_exact_engine():
    """Found by the property test above: this project's exact net score is 25 (a D, capped by
    its severe ratings), and float arithmetic gives 24.999999999999996 — an E without the
    tolerance the engine allows at boundaries."""
    levels = {
        "S7.1": 3, "S7.2": 4, "S7.3": 0, "S7.4": 3, "S7.5": None,
        "S9.1": 1, "S9.2": 2, "S9.3": 4, "S9.4": 0, "S9.5": 1,
        "S12.1": 2, "S12.2": None, "S12.3": 4, "S12.4": None, "S12.5": None,
        "D1": None, "D2": None, "D3": None, "D4": 4, "D5": None,
        "E1": None, "E2": None, "E3": 0, "E4": 4, "E5": None,
    }  # fmt: skip
    ratings = [
        Rating(code, not_applicable=True) if level is None else Rating(code, level, "A")
        for code, level in levels.items()
    ]
    card = score(METHOD, ratings)
    assert (card.net, card.grade) == (25, "D")
    figures = uncertainty(
        METHOD, encode(METHOD, [ratings]), ["D"], scenarios=10, weight_spread=0.0, alpha_range=(0.5, 0.5)
    )
    assert figures.grades[0, figures.grade_names.index("D")] == 1.0


# --- encode_parts: the service's quick reading of stored ratings --------------------------------


def as_parts(ratings: list[Rating]) -> list[tuple]:
    return [(r.code, r.level, r.evidence_grade, r.not_applicable) for r in ratings]


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(rating_sets(missing=1, not_applicable=1, rated=4), min_size=0, max_size=6))
def test_encoding_parts_gives_the_arrays_of_the_validated_ratings(states_list):
    projects = [to_ratings(states) for states in states_list]
    expected = encode(METHOD, projects)
    found = encode_parts(METHOD, [as_parts(ratings) for ratings in projects])
    assert np.array_equal(found.levels, expected.levels) and found.levels.dtype == expected.levels.dtype
    assert np.array_equal(found.moves, expected.moves) and found.moves.dtype == expected.moves.dtype


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (("ZZ.9", 2, "B", False), "criterion"),  # unknown criterion
        (("S7.1", 2, "B", False), "criterion"),  # rated twice (S7.1 is rated below too)
        (("S9.1", 5, "B", False), "rating"),  # out of range
        (("S9.1", True, "B", False), "rating"),  # a boolean is not a level
        (("S9.1", 2.0, "B", False), "rating"),  # nor a float
        (("S9.1", 2, "Z", False), "evidence_grade"),  # unknown evidence grade
        (("S9.1", 2, None, False), "evidence_grade"),  # none
        (("S9.1", 2, "B", True), "rating"),  # a level given with N/A
    ],
)
def test_encoding_parts_refuses_what_the_engine_refuses_with_its_error(bad, field):
    good = [("S7.1", 3, "A", False), ("D1", 1, "C", False)]
    with pytest.raises(RatingError) as raised:
        encode_parts(METHOD, [good, [*good, bad]])
    assert raised.value.field == field
    with pytest.raises(RatingError) as engine:
        validate_ratings(METHOD, [Rating(*part) for part in [*good, bad]])
    assert (raised.value.code, raised.value.message) == (engine.value.code, engine.value.message)


def test_encoding_parts_takes_an_int_subclass_as_the_engine_does():
    class Level(int):
        pass

    parts = [("S7.1", Level(3), "A", False)]
    found = encode_parts(METHOD, [parts])
    assert np.array_equal(found.levels, encode(METHOD, [[Rating("S7.1", 3, "A")]]).levels)


# --- dimension_values: what a custom profile's ranking is ordered by (§9) -----------------------


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(rating_sets(missing=1, not_applicable=1, rated=4), min_size=1, max_size=8))
def test_dimension_values_are_the_cards_exact_values_correctly_rounded(states_list):
    projects = [to_ratings(states) for states in states_list]
    values = dimension_values(METHOD, encode(METHOD, projects))
    keys = [dimension.key for dimension in METHOD.dimensions]
    for ratings, row in zip(projects, values, strict=True):
        card = score(METHOD, ratings)
        for key, value in zip(keys, row, strict=True):
            exact = card.dimensions[key].value
            if card.dimensions[key].covered and exact is not None:
                assert value == float(exact), key  # the same float, not merely close
            elif card.dimensions[key].covered:  # an impact dimension with nothing applicable
                assert np.isnan(value), key
