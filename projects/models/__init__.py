"""The domain model: operators, projects, methodology versions, assessments and score cards."""

from .api_keys import ApiKey
from .assessments import Assessment
from .changes import Change
from .jobs import RescoreJob
from .methodology import Criterion, Methodology
from .operators import Operator
from .projects import Project, SlugRedirect
from .publications import Publication
from .reviews import ReviewEvent, ReviewState
from .scores import ScoreCard
from .site import SiteState

__all__ = [
    "ApiKey",
    "Assessment",
    "Change",
    "Criterion",
    "Methodology",
    "Operator",
    "Project",
    "Publication",
    "RescoreJob",
    "ReviewEvent",
    "ReviewState",
    "ScoreCard",
    "SiteState",
    "SlugRedirect",
]
