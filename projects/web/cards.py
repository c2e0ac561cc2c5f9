"""A stored score card (docs/scoring.md, "The served score card") as a page shows it, in one language."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

from .method_texts import SHORT_NAMES, MethodTexts

IMPACT_KEYS = ("sdg7", "sdg9", "sdg12")
RISK_KEYS = ("debris", "equity")
SHORT_RISK_NAMES = {"debris": _("Debris"), "equity": _("Equity")}
GRADE_CAP_REASONS = {
    "risk_level_high": _("The grade is capped at C because a risk level is high."),
    "severe_rating": _("The grade is capped at D because a risk criterion is rated at the severe level (4)."),
}


def short_name(key: str) -> str:
    return SHORT_NAMES.get(key) or str(SHORT_RISK_NAMES.get(key, key))


@dataclass(frozen=True)
class DimensionView:
    key: str
    name: str
    short_name: str
    description: str
    is_risk: bool
    value: float | None
    low: float | None
    high: float | None
    coverage: float
    applicable: bool
    level: str | None
    level_name: str
    severe: bool

    @property
    def coverage_percent(self) -> int:
        return round(self.coverage * 100)

    @property
    def has_value(self) -> bool:
        return self.value is not None

    @property
    def has_range(self) -> bool:
        return self.low is not None and self.high is not None


CONFIDENCE_MEANINGS = {
    "high": _("most ratings rest on verified or operator-published evidence"),
    "medium": _("the evidence mixes published sources with secondary reporting"),
    "low": _("much of the evidence is secondary reporting or analyst judgement"),
}


@dataclass(frozen=True)
class Discount:
    """One risk's cut of the impact score: the net score is the impact times each factor."""

    name: str
    risk: float
    factor: float


@dataclass(frozen=True)
class CardView:
    status: str
    methodology: str
    grade: str | None
    grade_cap: str | None
    value: float | None
    low: float | None
    high: float | None
    impact: float | None
    confidence: str | None
    confidence_name: str
    confidence_score: float | None
    dimensions: tuple[DimensionView, ...]
    discounts: tuple[Discount, ...] = ()

    @property
    def confidence_meaning(self) -> str:
        return str(CONFIDENCE_MEANINGS.get(self.confidence or "", ""))

    @property
    def is_rated(self) -> bool:
        return self.status == "rated"

    @property
    def has_range(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def impact_dimensions(self) -> list[DimensionView]:
        return [dimension for dimension in self.dimensions if not dimension.is_risk]

    @property
    def risk_dimensions(self) -> list[DimensionView]:
        return [dimension for dimension in self.dimensions if dimension.is_risk]

    @property
    def grade_cap_reason(self) -> str:
        return str(GRADE_CAP_REASONS.get(self.grade_cap or "", ""))

    def dimension(self, key: str) -> DimensionView:
        return next(dimension for dimension in self.dimensions if dimension.key == key)


def card_view(card: dict, texts: MethodTexts) -> CardView:
    """The page form of a served card, with the method's names in the active language."""
    dimensions = []
    for key in (*IMPACT_KEYS, *RISK_KEYS):
        served = card["dimensions"].get(key)
        if served is None:
            continue
        dimensions.append(
            DimensionView(
                key=key,
                name=texts.dimension_name(key),
                short_name=short_name(key),
                description=texts.dimension_description(key),
                is_risk=key in RISK_KEYS,
                value=served["value"],
                low=served["low"],
                high=served["high"],
                coverage=served["coverage"],
                applicable=served.get("applicable", True),
                level=served.get("level"),
                level_name=texts.risk_level_name(served.get("level")),
                severe=bool(served.get("severe")),
            )
        )
    overall = card["overall"]
    return CardView(
        status=card["status"],
        methodology=card["methodology"],
        grade=overall["grade"],
        grade_cap=overall.get("grade_cap"),
        value=overall["value"],
        low=overall["low"],
        high=overall["high"],
        impact=(card.get("impact") or {}).get("value"),
        confidence=card.get("confidence"),
        confidence_name=texts.confidence_name(card.get("confidence")),
        confidence_score=card.get("confidence_score"),
        dimensions=tuple(dimensions),
        discounts=risk_discounts(card, texts),
    )


def risk_discounts(card: dict, texts: MethodTexts) -> tuple[Discount, ...]:
    """What makes the net score from the impact score: 1 − α × risk ÷ 100 for each risk
    (the method's §4), as the page explains it. None without a net score."""
    if card["overall"].get("value") is None:
        return ()
    alpha = Fraction(str(texts.parameters.get("alpha", "1/2")))
    discounts = []
    for key in RISK_KEYS:
        risk = (card["dimensions"].get(key) or {}).get("value")
        if risk is None:
            continue
        factor = 1 - alpha * Fraction(str(risk)) / 100
        discounts.append(Discount(texts.dimension_name(key), risk, float(factor)))
    return tuple(discounts)
