"""The domain model: operators, projects, methodology versions, assessments and score cards."""

from .api_keys import ApiKey
from .assessments import Assessment
from .changes import Change
from .jobs import RescoreJob
from .methodology import Criterion, Methodology
from .operators import Operator
from .profiles import ProfileResult, WeightingProfile
from .projects import Project, SlugRedirect
from .publications import Publication
from .reviews import ReviewEvent, ReviewState
from .scores import ScoreCard
from .site import SiteState
from .uncertainty import ProjectUncertainty, UncertaintyRun
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription

__all__ = [
    "ApiKey",
    "Assessment",
    "Change",
    "Criterion",
    "Methodology",
    "Operator",
    "ProfileResult",
    "Project",
    "ProjectUncertainty",
    "Publication",
    "RescoreJob",
    "ReviewEvent",
    "ReviewState",
    "ScoreCard",
    "SiteState",
    "SlugRedirect",
    "UncertaintyRun",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "WeightingProfile",
]
