"""Method 1.0's criteria as docs/scoring.md tables them: the one copy the tests read.

Written out rather than read from projects/methodology/1.0.json, so a test that compares the
installed method with this spec catches a change to either."""

# dimension -> ((code, weight), ...), in table order
SPEC = {
    "sdg7": (("S7.1", 3), ("S7.2", 2), ("S7.3", 2), ("S7.4", 1), ("S7.5", 2)),
    "sdg9": (("S9.1", 3), ("S9.2", 2), ("S9.3", 2), ("S9.4", 1), ("S9.5", 2)),
    "sdg12": (("S12.1", 2), ("S12.2", 3), ("S12.3", 2), ("S12.4", 2), ("S12.5", 2)),
    "debris": (("D1", 3), ("D2", 2), ("D3", 2), ("D4", 1), ("D5", 2)),
    "equity": (("E1", 2), ("E2", 3), ("E3", 2), ("E4", 1), ("E5", 2)),
}
SDG_DIMENSIONS = ("sdg7", "sdg9", "sdg12")
RISK_DIMENSIONS = ("debris", "equity")
DIMENSIONS = SDG_DIMENSIONS + RISK_DIMENSIONS

CODES = {dimension: tuple(code for code, _ in pairs) for dimension, pairs in SPEC.items()}
ALL_CODES = [code for codes in CODES.values() for code in codes]
SDG_CODES = [code for dimension in SDG_DIMENSIONS for code in CODES[dimension]]
RISK_CODES = [code for dimension in RISK_DIMENSIONS for code in CODES[dimension]]
WEIGHTS = {code: weight for pairs in SPEC.values() for code, weight in pairs}
DIMENSION_OF = {code: dimension for dimension, codes in CODES.items() for code in codes}
