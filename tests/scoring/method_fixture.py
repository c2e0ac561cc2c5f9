"""Method 1.0's scoring parameters, written out here so engine tests need no Django or files."""

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
        for dimension, pairs in {
            "sdg7": [("S7.1", 3), ("S7.2", 2), ("S7.3", 2), ("S7.4", 1), ("S7.5", 2)],
            "sdg9": [("S9.1", 3), ("S9.2", 2), ("S9.3", 2), ("S9.4", 1), ("S9.5", 2)],
            "sdg12": [("S12.1", 2), ("S12.2", 3), ("S12.3", 2), ("S12.4", 2), ("S12.5", 2)],
            "debris": [("D1", 3), ("D2", 2), ("D3", 2), ("D4", 1), ("D5", 2)],
            "equity": [("E1", 2), ("E2", 3), ("E3", 2), ("E4", 1), ("E5", 2)],
        }.items()
        for code, weight in pairs
    ],
}
