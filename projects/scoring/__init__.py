"""The pure scoring engine (no Django, no I/O): see engine.py."""

from .engine import (
    INSUFFICIENT_DATA,
    RATED,
    Card,
    CriterionSpec,
    DimensionScore,
    DimensionSpec,
    Method,
    MethodError,
    Rating,
    RatingError,
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
    "Method",
    "MethodError",
    "Rating",
    "RatingError",
    "Card",
    "round_half_up",
    "score",
    "validate_ratings",
]
