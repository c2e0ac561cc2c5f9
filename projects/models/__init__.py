"""The domain model: operators, projects, methodology versions, assessments and score cards."""

from .assessments import Assessment
from .methodology import Criterion, Methodology
from .operators import Operator
from .projects import Project
from .scores import ScoreCard

__all__ = ["Assessment", "Criterion", "Methodology", "Operator", "Project", "ScoreCard"]
