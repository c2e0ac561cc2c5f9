"""Reads shared by the admin, commands and (later) the API and public pages."""

from django.db.models import Prefetch, QuerySet

from projects.models import Assessment, Criterion, Methodology, Project
from projects.vocabularies import PublicationState


def methodology_current() -> Methodology | None:
    """The method scores are computed under: the most recently published version."""
    return (
        Methodology.objects.filter(state=PublicationState.PUBLISHED).order_by("-published_at", "-id").first()
    )


def criteria_of(methodology: Methodology) -> QuerySet[Criterion]:
    return methodology.criteria.order_by("position")


def project_list_for_export(
    *, methodology: Methodology | None, published_only: bool = False
) -> QuerySet[Project]:
    """Projects with their ratings under ``methodology``, in two queries per chunk."""
    projects = Project.objects.select_related("operator", "current_score").order_by("slug")
    if published_only:
        projects = projects.filter(state=PublicationState.PUBLISHED)
    return projects.prefetch_related(
        Prefetch(
            "assessments",
            queryset=Assessment.objects.select_related("criterion")
            .filter(criterion__methodology=methodology)
            .order_by("criterion__position"),
        )
    )
