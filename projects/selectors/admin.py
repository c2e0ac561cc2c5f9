"""Reads for staff tools: the admin's and the command line's exports of the whole catalogue."""

from django.db.models import Prefetch, QuerySet

from projects.models import Assessment, Methodology, Project
from projects.vocabularies import PublicationState

from .uncertainty import uncertainty_expression


def project_list_for_export(
    *, methodology: Methodology | None, published_only: bool = False
) -> QuerySet[Project]:
    """Projects with their ratings under ``methodology``, in two queries per chunk."""
    projects = Project.objects.select_related("operator", "current_score").order_by("slug")
    if published_only:
        return (
            projects.filter(state=PublicationState.PUBLISHED)
            .select_related("publication", "published_score")
            .annotate(uncertainty_stored=uncertainty_expression())
        )
    return projects.prefetch_related(
        Prefetch(
            "assessments",
            queryset=Assessment.objects.select_related("criterion")
            .filter(criterion__methodology=methodology)
            .order_by("criterion__position"),
        )
    )
