"""The method's own names (dimensions, risk levels, grades, evidence, confidence) in one language.

Every name comes from the method data (Methodology.parameters), never from a copy in the code,
so a new method version brings its own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from django.utils.translation import get_language

from projects.models import Methodology

SHORT_NAMES = {"sdg7": "SDG 7", "sdg9": "SDG 9", "sdg12": "SDG 12"}


def localised(names: dict | None, language: str) -> str:
    names = names or {}
    return names.get(language) or names.get("en", "")


def number(value) -> float:
    """A method parameter ("1/3", "20") as a float for display."""
    return float(Fraction(str(value)))


@dataclass
class MethodTexts:
    """Names and parameters of one method version, looked up in one language."""

    methodology: Methodology
    language: str = field(default_factory=lambda: (get_language() or "en")[:2])

    @property
    def parameters(self) -> dict:
        return self.methodology.parameters

    def dimension(self, key: str) -> dict:
        for dimension in self.parameters.get("dimensions", []):
            if dimension["key"] == key:
                return dimension
        return {"key": key, "kind": "impact"}

    def dimension_name(self, key: str) -> str:
        return localised(self.dimension(key).get("name"), self.language) or key

    def dimension_description(self, key: str) -> str:
        return localised(self.dimension(key).get("description"), self.language)

    def risk_level_name(self, key: str | None) -> str:
        for level in self.parameters.get("risk_levels", []):
            if level["key"] == key:
                return localised(level.get("name"), self.language)
        return key or ""

    def confidence_name(self, key: str | None) -> str:
        for level in self.parameters.get("confidence_levels", []):
            if level["key"] == key:
                return localised(level.get("name"), self.language)
        return key or ""

    def evidence_grade_name(self, grade: str) -> str:
        return localised(self.parameters.get("evidence_grades", {}).get(grade), self.language)

    def risk_level_keys(self) -> list[str]:
        return [level["key"] for level in self.parameters.get("risk_levels", [])]
