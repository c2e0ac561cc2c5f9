"""What would change the grade (the method's §10, projects.scoring.grade_changes): exactly the
single-level changes of one assessed criterion whose recomputation changes the grade, checked
against the tests' own reading of the formulas (tests/support/reference.py)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.scoring import Method, Rating, grade_changes, grade_changes_among, round_half_up, score
from projects.scoring.uncertainty import (
    decide_changes,
    encode,
    grade_changes_screened,
)
from tests.support.examples import examples
from tests.support.reference import MISSING, NA, reference

from .method_fixture import METHOD_1_0
from .test_engine_properties import rating_sets, to_ratings
from .test_uncertainty import rated_catalogue

METHOD = Method.from_dict(METHOD_1_0)
GRADE_ORDER = "ABCDE"


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rating_sets(missing=1, not_applicable=1, rated=6))
def test_exactly_the_one_level_changes_that_change_the_grade_are_listed(states):
    official = reference(states)
    changes = grade_changes(METHOD, to_ratings(states))
    if official["grade"] is None:
        assert changes == ()
        return
    expected = {}
    for code, state in states.items():
        if state in (MISSING, NA):
            continue
        level, evidence = state
        for to in (level - 1, level + 1):
            if 0 <= to <= 4:
                moved = reference({**states, code: (to, evidence)})
                if moved["grade"] != official["grade"]:
                    expected[(code, level, to)] = (moved["grade"], moved["net"])
    assert {(c.code, c.level_from, c.level_to): (c.grade, c.net) for c in changes} == expected
    # Better grades first; within a grade, the larger move of the net score first.
    keys = [(GRADE_ORDER.index(c.grade), -abs(c.net - official["net"])) for c in changes]
    assert keys == sorted(keys)


def test_worked_examples():
    # Every criterion at 2: impact 50, each risk 50, net 50 × 0.75 × 0.75 = 28.1 (D). No single
    # one-level change crosses 25 or 40: nothing is listed.
    flat = [Rating(criterion.code, 2, "B") for criterion in METHOD.criteria]
    assert score(METHOD, flat).grade == "D"
    assert grade_changes(METHOD, flat) == ()
    # SDG criteria at 3, risks at 1: impact 75, risks 25, net 57.4 (B). Raising D1 or E2 (weight
    # 3, the heaviest risk criteria) from 1 to 2 gives 55.0 — still B? No: 54.96 is below 55: C.
    mixed = [Rating(c.code, 3 if c.dimension.startswith("sdg") else 1, "B") for c in METHOD.criteria]
    assert score(METHOD, mixed).grade == "B"
    changes = grade_changes(METHOD, mixed)
    assert [(c.code, c.level_from, c.level_to, c.grade, round(float(c.net), 2)) for c in changes] == [
        ("D1", 1, 2, "C", 54.96),
        ("E2", 1, 2, "C", 54.96),
    ]
    assert grade_changes(METHOD, [Rating("S7.1", 2, "B")]) == ()  # not rated: nothing to list


def test_candidates_off_the_rules_are_ignored():
    ratings = [Rating(c.code, 3 if c.dimension.startswith("sdg") else 1, "B") for c in METHOD.criteria]
    assert (
        grade_changes_among(METHOD, ratings, [("D1", 1, 3), ("D1", 2, 3), ("ZZ", 1, 2), ("D1", 1, 5)]) == ()
    )
    assert [c.code for c in grade_changes_among(METHOD, ratings, [("D1", 1, 2)])] == ["D1"]


def decided(method, ratings, screened) -> list[tuple]:
    """What the service stores for a project."""
    return decide_changes(method, ratings, screened)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rating_sets(missing=1, not_applicable=1, rated=6), min_size=1, max_size=12))
def test_the_screens_decisions_are_the_exact_engines_in_its_order(states_list):
    """The run decides most projects' §10 in floats: the same changes, rounded nets, grades and
    order as ``grade_changes`` (the exact engine), for every project."""
    projects, grades = rated_catalogue(states_list)
    if not projects:
        return
    screened = grade_changes_screened(METHOD, encode(METHOD, projects), grades)
    for ratings, result in zip(projects, screened, strict=True):
        exact = [
            (c.code, c.level_from, c.level_to, round_half_up(c.net, 1), c.grade)
            for c in grade_changes(METHOD, ratings)
        ]
        assert decided(METHOD, ratings, result) == exact


def test_the_screen_leaves_ties_and_boundaries_to_the_exact_engine():
    # Every SDG criterion at 3, risks at 1: D1 and E2 up give the same net (a tie in order).
    mixed = [Rating(c.code, 3 if c.dimension.startswith("sdg") else 1, "B") for c in METHOD.criteria]
    (result,) = grade_changes_screened(METHOD, encode(METHOD, [mixed]), [score(METHOD, mixed).grade])
    assert decided(METHOD, mixed, result) == [("D1", 1, 2, 55.0, "C"), ("E2", 1, 2, 55.0, "C")]
    # Exact 25 (a D) sits on a boundary: the screen does not decide that project itself.
    flat = [Rating(c.code, 1 if c.dimension.startswith("sdg") else 0, "A") for c in METHOD.criteria]
    card = score(METHOD, flat)
    assert card.net == 25 and card.grade == "D"
    (on_boundary,) = grade_changes_screened(METHOD, encode(METHOD, [flat]), ["D"])
    assert decided(METHOD, flat, on_boundary) == [
        (c.code, c.level_from, c.level_to, round_half_up(c.net, 1), c.grade)
        for c in grade_changes(METHOD, flat)
    ]
