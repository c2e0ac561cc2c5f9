"""What the engine reads of a published project: its published ratings."""

from projects import scoring
from projects.selectors import frozen_ratings


def published_ratings(project) -> list[scoring.Rating]:
    """The ratings of the project's last publication, as the engine takes them."""
    return [
        scoring.Rating(a.criterion.code, a.level, a.evidence_grade or None, a.not_applicable)
        for a in frozen_ratings(project)
    ]
