"""Imported projects get exactly the scores docs/scoring.md defines.

The reference (tests/support/reference.py) is written straight from the specification's
formulas, independently of projects/scoring/engine.py, and every imported project's stored card is
compared with it: values to 0.05, and status, grade, levels, flags and confidence exactly.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.interchange.importer import projects_import
from projects.models import Project
from tests.conftest import interchange, project_record
from tests.support.criteria import ALL_CODES
from tests.support.examples import examples
from tests.support.reference import MISSING, NA, reference


def expected_card(ratings: dict) -> dict:
    """ratings: code -> None (missing) | "na" | (level, grade); the reference's card in the stored
    card's shape."""
    states = {code: MISSING if state is None else state for code, state in ratings.items()}
    card = reference(states)
    return {
        "status": card["status"],
        "overall": {
            "value": card["net"],
            "grade": card["grade"],
            "low": card["net_low"],
            "high": card["net_high"],
        },
        "dims": card["dims"],
        "confidence": card["confidence_label"],
    }


def close(served, exact) -> bool:
    if exact is None:
        return served is None
    return served is not None and abs(served - float(exact)) <= 0.05 + 1e-9  # one-decimal rounding


rating_strategy = st.one_of(st.none(), st.just(NA), st.tuples(st.integers(0, 4), st.sampled_from("ABCD")))
project_strategy = st.fixed_dictionaries({code: rating_strategy for code in ALL_CODES})


def as_assessments(ratings: dict) -> list[dict]:
    items = []
    for code, rating in ratings.items():
        if rating == NA:
            items.append({"criterion": code, "not_applicable": True, "evidence": "Cannot apply."})
        elif rating is not None:
            items.append(
                {
                    "criterion": code,
                    "rating": rating[0],
                    "evidence": "x",
                    "evidence_grade": rating[1],
                    "source_url": "https://example.org/evidence",  # grades A and B need one
                }
            )
    return items


# A few dozen imported projects: tests/scoring compares the engine with the same reference over
# thousands of rating sets; here what counts is that the import path stores the engine's card.
@pytest.mark.django_db
@settings(
    max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(projects=st.lists(project_strategy, min_size=1, max_size=4))
def test_imported_scores_match_the_specification(projects):
    Project.objects.all().delete()
    records = [project_record(f"p{i}", assessments=as_assessments(r)) for i, r in enumerate(projects)]
    projects_import(interchange(*records))
    for index, ratings in enumerate(projects):
        card = Project.objects.select_related("current_score").get(slug=f"p{index}").current_score.card
        expected = expected_card(ratings)
        assert card["status"] == expected["status"]
        assert card["confidence"] == expected["confidence"]
        assert card["overall"]["grade"] == expected["overall"]["grade"]
        for field in ("value", "low", "high"):
            assert close(card["overall"][field], expected["overall"][field]), field
        for key, dim in expected["dims"].items():
            served = card["dimensions"][key]
            for field in ("value", "low", "high", "coverage"):
                assert close(served[field], dim[field]), (key, field)
            if key in ("debris", "equity"):
                assert served["level"] == dim["level"]
                assert served["severe"] == dim["severe"]
