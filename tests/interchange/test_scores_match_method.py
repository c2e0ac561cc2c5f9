"""Imported projects get exactly the scores docs/scoring.md defines.

The reference below is written straight from the specification's formulas, independently of
projects/scoring/engine.py, and every imported project's stored card is compared with it:
values to 0.05, and status, grade, levels, flags and confidence exactly.
"""

from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.interchange.importer import projects_import
from projects.models import Project
from tests.conftest import interchange, project_record

WEIGHTS = {
    "sdg7": {"S7.1": 3, "S7.2": 2, "S7.3": 2, "S7.4": 1, "S7.5": 2},
    "sdg9": {"S9.1": 3, "S9.2": 2, "S9.3": 2, "S9.4": 1, "S9.5": 2},
    "sdg12": {"S12.1": 2, "S12.2": 3, "S12.3": 2, "S12.4": 2, "S12.5": 2},
    "debris": {"D1": 3, "D2": 2, "D3": 2, "D4": 1, "D5": 2},
    "equity": {"E1": 2, "E2": 3, "E3": 2, "E4": 1, "E5": 2},
}
Q = {"A": F(1), "B": F(3, 4), "C": F(1, 2), "D": F(1, 4)}
SDGS = ("sdg7", "sdg9", "sdg12")


def reference(ratings: dict) -> dict:
    """ratings: code -> None (missing) | "na" | (level, grade)."""
    dims, confidences = {}, []
    for key, weights in WEIGHTS.items():
        applicable = {c: w for c, w in weights.items() if ratings.get(c) != "na"}
        assessed = {c: w for c, w in applicable.items() if ratings.get(c) is not None}
        sum_c, sum_a = sum(applicable.values()), sum(assessed.values())
        s = sum(w * ratings[c][0] for c, w in assessed.items())
        severe = key in ("debris", "equity") and any(ratings[c][0] == 4 for c in assessed)
        if not applicable:
            zero = 0 if key in ("debris", "equity") else None
            dims[key] = {
                "coverage": F(1),
                "value": zero,
                "low": zero,
                "high": zero,
                "covered": True,
                "applicable": False,
                "severe": False,
            }
        else:
            coverage = F(sum_a, sum_c)
            dims[key] = {
                "coverage": coverage,
                "covered": coverage >= F(1, 2),
                "applicable": True,
                "severe": severe,
                "value": F(100 * s, 4 * sum_a) if sum_a and coverage >= F(1, 2) else None,
                "low": F(100 * s, 4 * sum_c),
                "high": F(100 * (s + 4 * (sum_c - sum_a)), 4 * sum_c),
            }
            confidences.append(sum(w * Q[ratings[c][1]] for c, w in assessed.items()) / sum_c)
        if key in ("debris", "equity"):
            value = dims[key]["value"]
            level = None
            if value is not None:
                level = (
                    "low"
                    if value < 20
                    else "moderate"
                    if value < 40
                    else "elevated"
                    if value < 60
                    else "high"
                )
                if severe:
                    level = "high"
            dims[key]["level"] = level
    impact_dims = [k for k in SDGS if dims[k]["applicable"]]
    rated = bool(impact_dims) and all(d["covered"] for d in dims.values())

    def mean(field):
        return sum(dims[k][field] for k in impact_dims) / len(impact_dims) if impact_dims else None

    def net(impact, debris, equity):
        return impact * (1 - F(1, 2) * debris / 100) * (1 - F(1, 2) * equity / 100)

    overall = {"value": None, "grade": None, "low": None, "high": None}
    if impact_dims:
        overall["low"] = net(mean("low"), dims["debris"]["high"], dims["equity"]["high"])
        overall["high"] = net(mean("high"), dims["debris"]["low"], dims["equity"]["low"])
    if rated:
        value = net(mean("value"), dims["debris"]["value"], dims["equity"]["value"])
        grade = (
            "A"
            if value >= 70
            else "B"
            if value >= 55
            else "C"
            if value >= 40
            else "D"
            if value >= 25
            else "E"
        )
        order = "ABCDE"
        if "high" in (dims["debris"]["level"], dims["equity"]["level"]):
            grade = order[max(order.index(grade), order.index("C"))]
        if dims["debris"]["severe"] or dims["equity"]["severe"]:
            grade = order[max(order.index(grade), order.index("D"))]
        overall.update(value=value, grade=grade)
    confidence = sum(confidences) / len(confidences) if confidences else None
    label = (
        None
        if confidence is None
        else "high"
        if confidence >= F(3, 4)
        else "medium"
        if confidence >= F(1, 2)
        else "low"
    )
    return {
        "status": "rated" if rated else "insufficient_data",
        "overall": overall,
        "dims": dims,
        "confidence": label,
    }


def close(served, exact) -> bool:
    if exact is None:
        return served is None
    return served is not None and abs(served - float(exact)) <= 0.05 + 1e-9  # one-decimal rounding


rating_strategy = st.one_of(st.none(), st.just("na"), st.tuples(st.integers(0, 4), st.sampled_from("ABCD")))
project_strategy = st.fixed_dictionaries(
    {code: rating_strategy for dims in WEIGHTS.values() for code in dims}
)


def as_assessments(ratings: dict) -> list[dict]:
    items = []
    for code, rating in ratings.items():
        if rating == "na":
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


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(projects=st.lists(project_strategy, min_size=1, max_size=4))
def test_imported_scores_match_the_specification(projects):
    Project.objects.all().delete()
    records = [project_record(f"p{i}", assessments=as_assessments(r)) for i, r in enumerate(projects)]
    projects_import(interchange(*records))
    for index, ratings in enumerate(projects):
        card = Project.objects.select_related("current_score").get(slug=f"p{index}").current_score.card
        expected = reference(ratings)
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
