"""The pure scoring engine (no Django, no I/O): see engine.py."""

from .engine import (
    INSUFFICIENT_DATA,
    RATED,
    Card,
    CriterionSpec,
    DimensionScore,
    DimensionSpec,
    GradeChange,
    Method,
    MethodError,
    Rating,
    RatingError,
    grade_changes,
    grade_changes_among,
    round_half_up,
    score,
    validate_ratings,
)

__all__ = [
    "INSUFFICIENT_DATA",
    "RATED",
    "CriterionSpec",
    "DimensionScore",
    "DimensionSpec",
    "GradeChange",
    "Method",
    "MethodError",
    "Rating",
    "RatingError",
    "Card",
    "grade_changes",
    "grade_changes_among",
    "round_half_up",
    "score",
    "validate_ratings",
]
