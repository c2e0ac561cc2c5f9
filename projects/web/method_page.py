"""The methodology page's content, read from a method version's data (never copied by hand)."""

from __future__ import annotations

from dataclasses import dataclass

from projects.models import Methodology

from .method_texts import MethodTexts, localised, number


@dataclass(frozen=True)
class CriterionEntry:
    code: str
    name: str
    description: str
    weight: int
    share: int  # percent of its dimension's weight
    references: str
    levels: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class DimensionEntry:
    key: str
    name: str
    description: str
    is_risk: bool
    impact_weight: float
    criteria: tuple[CriterionEntry, ...]

    @property
    def impact_percent(self) -> float:
        return round(self.impact_weight * 100, 1)

    @property
    def total_weight(self) -> int:
        return sum(criterion.weight for criterion in self.criteria)


def dimension_entries(methodology: Methodology, texts: MethodTexts) -> list[DimensionEntry]:
    language = texts.language
    entries = []
    for dimension in methodology.parameters.get("dimensions", []):
        criteria = [c for c in methodology.ordered_criteria if c.dimension == dimension["key"]]
        total = sum(criterion.weight for criterion in criteria) or 1
        entries.append(
            DimensionEntry(
                key=dimension["key"],
                name=localised(dimension.get("name"), language),
                description=localised(dimension.get("description"), language),
                is_risk=dimension.get("kind") == "risk",
                impact_weight=number(dimension.get("impact_weight", 0)),
                criteria=tuple(
                    CriterionEntry(
                        code=criterion.code,
                        name=criterion.name(language),
                        description=criterion.description(language),
                        weight=criterion.weight,
                        share=round(100 * criterion.weight / total),
                        references=criterion.references,
                        levels=tuple(enumerate(criterion.level_texts(language))),
                    )
                    for criterion in criteria
                ),
            )
        )
    return entries


@dataclass(frozen=True)
class Band:
    name: str
    lower: float | None  # inclusive
    upper: float | None  # exclusive


def risk_bands(texts: MethodTexts) -> list[Band]:
    bands, lower = [], 0.0
    for level in texts.parameters.get("risk_levels", []):
        upper = None if level["below"] is None else number(level["below"])
        bands.append(Band(localised(level.get("name"), texts.language), lower, upper))
        lower = upper
    return bands


def grade_bands(texts: MethodTexts) -> list[Band]:
    bands, upper = [], None
    for grade in texts.parameters.get("grades", []):
        lower = number(grade["min"])
        bands.append(Band(grade["grade"], lower, upper))
        upper = lower
    return bands


def confidence_bands(texts: MethodTexts) -> list[Band]:
    bands, upper = [], None
    for level in texts.parameters.get("confidence_levels", []):
        lower = number(level["min"])
        bands.append(Band(localised(level.get("name"), texts.language), lower, upper))
        upper = lower
    return bands


def evidence_grades(texts: MethodTexts) -> list[dict]:
    quality = texts.parameters.get("evidence_quality", {})
    return [
        {"grade": grade, "name": localised(names, texts.language), "quality": number(quality.get(grade, 0))}
        for grade, names in texts.parameters.get("evidence_grades", {}).items()
    ]


def formula_parameters(texts: MethodTexts) -> dict:
    parameters = texts.parameters
    alpha = number(parameters.get("alpha", 0))
    return {
        "alpha": alpha,
        "alpha_percent": round(alpha * 100),
        "coverage_percent": round(number(parameters.get("coverage_threshold", 0)) * 100),
        "severe_rating": parameters.get("severe_rating"),
        "cap_risk_level_high": parameters.get("caps", {}).get("risk_level_high"),
        "cap_severe_rating": parameters.get("caps", {}).get("severe_rating"),
        "highest_risk_level": texts.risk_level_name((texts.risk_level_keys() or [""])[-1]),
    }
