"""Reads shared by the admin, commands and (later) the API and public pages."""

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from projects.models import Assessment, Criterion, Methodology, Project, Publication
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
        return projects.filter(state=PublicationState.PUBLISHED).select_related(
            "publication", "published_score"
        )
    return projects.prefetch_related(
        Prefetch(
            "assessments",
            queryset=Assessment.objects.select_related("criterion")
            .filter(criterion__methodology=methodology)
            .order_by("criterion__position"),
        )
    )


def published_assessments(
    publication: Publication | None, criteria: dict[str, Criterion]
) -> dict[str, Assessment]:
    """The ratings a publication froze, as unsaved Assessments keyed by criterion code, so that
    public pages and the API show them with the same code as live ones. ``criteria`` maps the
    publication's method's codes to its criteria."""
    if publication is None:
        return {}
    frozen = {}
    for item in publication.frozen_ratings:
        criterion = criteria.get(item["criterion"])
        if criterion is None:
            continue
        frozen[criterion.code] = Assessment(
            project_id=publication.project_id,
            criterion=criterion,
            level=None if item.get("not_applicable") else item.get("rating"),
            not_applicable=bool(item.get("not_applicable")),
            justification=item.get("evidence", ""),
            evidence_grade=item.get("evidence_grade", ""),
            source_url=item.get("source_url", ""),
            updated_at=datetime.fromisoformat(item["updated_at"]) if item.get("updated_at") else None,
        )
    return frozen


def publication_history(project: Project) -> QuerySet[Publication]:
    """A project's publications, newest first, each with its frozen card and method."""
    return project.publications.select_related("score", "methodology").order_by("-number")
