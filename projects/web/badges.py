"""The embeddable badge: a small SVG with the grade and net score, sized to its text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from projects.models import Project

GRADE_COLOURS = {"A": "#0b6b3a", "B": "#38761d", "C": "#8a6100", "D": "#b04a00", "E": "#b3261e"}
NEUTRAL = "#555b61"
PADDING = 8
HEIGHT = 20


def text_width(text: str) -> int:
    """Roughly how wide ``text`` is at 11 px: wide (CJK) characters count double."""
    return sum(12 if unicodedata.east_asian_width(ch) in "WF" else 7 for ch in text)


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    colour: str
    description: str

    @property
    def label_width(self) -> int:
        return text_width(self.label) + 2 * PADDING

    @property
    def message_width(self) -> int:
        return text_width(self.message) + 2 * PADDING

    @property
    def width(self) -> int:
        return self.label_width + self.message_width

    @property
    def height(self) -> int:
        return HEIGHT

    @property
    def label_x(self) -> float:
        return self.label_width / 2

    @property
    def message_x(self) -> float:
        return self.label_width + self.message_width / 2


def badge_for(project: Project) -> Badge:
    score = project.published_score
    if score is None:
        message, colour = _("not rated"), NEUTRAL
        description = _("%(project)s has no score yet.") % {"project": project.name}
    elif score.status != "rated":
        message, colour = _("insufficient data"), NEUTRAL
        description = _("%(project)s: insufficient data for a grade.") % {"project": project.name}
    else:
        message = f"{score.grade} · {score.net_score:.1f}"
        colour = GRADE_COLOURS.get(score.grade, NEUTRAL)
        description = _("%(project)s: grade %(grade)s, net score %(score).1f of 100.") % {
            "project": project.name,
            "grade": score.grade,
            "score": score.net_score,
        }
    if project.is_illustrative:
        demo = _("demo")
        message = f"{message} · {demo}"
        description = " ".join((description, _("Illustrative demo assessment.")))
    return Badge(label="sdgscore", message=message, colour=colour, description=description)
