"""Method 1.0's scoring parameters, written out here so engine tests need no Django or files."""

from tests.support.criteria import SPEC

METHOD_1_0 = {
    "version": "1.0",
    "alpha": "1/2",
    "coverage_threshold": "1/2",
    "dimensions": [
        {"key": "sdg7", "kind": "impact", "impact_weight": "1/3"},
        {"key": "sdg9", "kind": "impact", "impact_weight": "1/3"},
        {"key": "sdg12", "kind": "impact", "impact_weight": "1/3"},
        {"key": "debris", "kind": "risk", "impact_weight": "0"},
        {"key": "equity", "kind": "risk", "impact_weight": "0"},
    ],
    "risk_levels": [
        {"key": "low", "below": "20"},
        {"key": "moderate", "below": "40"},
        {"key": "elevated", "below": "60"},
        {"key": "high", "below": None},
    ],
    "severe_rating": 4,
    "grades": [
        {"grade": "A", "min": "70"},
        {"grade": "B", "min": "55"},
        {"grade": "C", "min": "40"},
        {"grade": "D", "min": "25"},
        {"grade": "E", "min": "0"},
    ],
    "caps": {"risk_level_high": "C", "severe_rating": "D"},
    "evidence_quality": {"A": "1", "B": "3/4", "C": "1/2", "D": "1/4"},
    "confidence_levels": [
        {"key": "high", "min": "3/4"},
        {"key": "medium", "min": "1/2"},
        {"key": "low", "min": "0"},
    ],
    "criteria": [
        {"code": code, "dimension": dimension, "weight": weight}
        for dimension, pairs in SPEC.items()
        for code, weight in pairs
    ],
}
