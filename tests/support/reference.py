"""docs/scoring.md's formulas, read independently of projects/scoring: the one reference the
tests compare the engine's cards with (tests/scoring) and the imported projects' stored cards
with (tests/interchange). Weights come from tests/support/criteria.py, parameters from the spec.

A rating state per criterion code: MISSING, NA, or (level, evidence grade)."""

from fractions import Fraction as F

from tests.support.criteria import DIMENSION_OF, RISK_DIMENSIONS, SDG_DIMENSIONS, WEIGHTS

QUALITY = {"A": F(1), "B": F(3, 4), "C": F(1, 2), "D": F(1, 4)}
ALPHA = F(1, 2)
GRADES = ("A", "B", "C", "D", "E")
MISSING = "missing"
NA = "na"
RATED, INSUFFICIENT_DATA = "rated", "insufficient_data"
SPEC_CRITERIA = {code: (DIMENSION_OF[code], weight) for code, weight in WEIGHTS.items()}
SDG_DIMS, RISK_DIMS = SDG_DIMENSIONS, RISK_DIMENSIONS
ALL_DIMS = SDG_DIMS + RISK_DIMS


def grade_band(net: F) -> str:
    for grade, minimum in (("A", 70), ("B", 55), ("C", 40), ("D", 25)):
        if net >= minimum:
            return grade
    return "E"


def worse(grade: str, cap: str) -> str:
    return GRADES[max(GRADES.index(grade), GRADES.index(cap))]


def reference_dimension(key: str, states: dict) -> tuple[dict, F | None]:
    """One dimension of docs/scoring.md, and its evidence-quality share (None when it has no
    applicable criterion)."""
    applicable = [(w, states[c]) for c, (d, w) in SPEC_CRITERIA.items() if d == key and states[c] != NA]
    assessed = [(w, s) for w, s in applicable if s != MISSING]
    w_c = sum(w for w, _ in applicable)
    w_a = sum(w for w, _ in assessed)
    s = sum(w * level for w, (level, _) in assessed)
    risk = key in RISK_DIMS
    share = None
    if w_c == 0:
        coverage = F(1)
        value = low = high = F(0) if risk else None
    else:
        coverage = F(w_a, w_c)
        value = F(100 * s, 4 * w_a) if w_a else None
        low = F(100 * s, 4 * w_c)
        high = F(100 * (s + 4 * (w_c - w_a)), 4 * w_c)
        share = sum((w * QUALITY[g] for w, (_, g) in assessed), F(0)) / w_c
    covered = coverage >= F(1, 2)
    if not covered:
        value = None
    severe = risk and any(level == 4 for _, (level, _) in assessed)
    level = None
    if risk and covered:
        level = "low" if value < 20 else "moderate" if value < 40 else "elevated" if value < 60 else "high"
        if severe:
            level = "high"
    dimension = {
        "applicable": w_c > 0,
        "coverage": coverage,
        "covered": covered,
        "value": value,
        "low": low,
        "high": high,
        "level": level,
        "severe": severe,
    }
    return dimension, share


def reference(states: dict) -> dict:
    """docs/scoring.md, read independently of the engine."""
    dims = {}
    shares = []
    for key in ALL_DIMS:
        dims[key], share = reference_dimension(key, states)
        if share is not None:
            shares.append(share)

    sdg = [dims[k] for k in SDG_DIMS if dims[k]["applicable"]]

    def mean(part):
        if not sdg or any(d[part] is None for d in sdg):
            return None
        return sum(d[part] for d in sdg) / len(sdg)

    def penalised(base, part):
        if base is None:
            return None
        result = base
        for k in RISK_DIMS:
            result *= 1 - ALPHA * dims[k][part] / 100
        return result

    rated = bool(sdg) and all(d["covered"] for d in dims.values())
    impact, impact_low, impact_high = mean("value"), mean("low"), mean("high")
    net = penalised(impact, "value") if rated else None
    grade = None
    if net is not None:
        grade = grade_band(net)
        if any(dims[k]["level"] == "high" for k in RISK_DIMS):
            grade = worse(grade, "C")
        if any(dims[k]["severe"] for k in RISK_DIMS):
            grade = worse(grade, "D")
    confidence = sum(shares) / len(shares) if shares else None
    label = None
    if confidence is not None:
        label = "high" if confidence >= F(3, 4) else "medium" if confidence >= F(1, 2) else "low"
    return {
        "dims": dims,
        "status": RATED if rated else INSUFFICIENT_DATA,
        "impact": impact if rated else None,
        "impact_low": impact_low,
        "impact_high": impact_high,
        "net": net,
        "net_low": penalised(impact_low, "high"),
        "net_high": penalised(impact_high, "low"),
        "grade": grade,
        "confidence": confidence,
        "confidence_label": label,
    }
