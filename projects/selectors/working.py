"""Reads that include the working state for clients who see drafts (write-scope API keys): draft
projects with their working cards and the facts waiting for publication, and working ratings.
Each takes ``drafts``, whether the reader sees drafts; without it they read what the public sees."""

from django.db.models import Count, Q, QuerySet

from projects.models import Assessment, Criterion, Methodology, Operator, Project
from projects.vocabularies import PublicationState


def visible_projects(*, drafts: bool) -> QuerySet[Project]:
    """Published projects, and drafts too for readers who see them (with their working cards)."""
    projects = Project.objects.select_related("operator", "published_score")
    if drafts:
        return projects.select_related("current_score")
    return projects.published()


def visible_operators(*, drafts: bool) -> QuerySet[Operator]:
    """Operators with a project the reader may see: a published one, or any for drafts."""
    if drafts:
        return Operator.objects.filter(projects__isnull=False).distinct()
    return Operator.objects.filter(projects__state=PublicationState.PUBLISHED).distinct()


def listed_operators(*, drafts: bool) -> QuerySet[Operator]:
    """Operators with a visible project, by name, each with ``project_count``, how many."""
    visible = Q(projects__isnull=False) if drafts else Q(projects__state=PublicationState.PUBLISHED)
    return (
        Operator.objects.annotate(project_count=Count("projects", filter=visible, distinct=True))
        .filter(project_count__gt=0)
        .order_by("name")
    )


def operator_summary(pk: int) -> dict:
    """An operator's slug, name, country and kind (a draft may name another operator)."""
    return Operator.objects.values("slug", "name", "country", "kind").get(pk=pk)


def working_assessments(project: Project, methodology: Methodology) -> QuerySet[Assessment]:
    """The project's ratings as they stand now, under ``methodology``, in method order."""
    return (
        Assessment.objects.filter(project=project, criterion__methodology=methodology)
        .select_related("criterion__methodology")
        .order_by("criterion__position")
    )


def working_assessment(project: Project, criterion: Criterion) -> Assessment | None:
    """The project's rating of one criterion as it stands now (None when missing)."""
    return (
        Assessment.objects.filter(project=project, criterion=criterion)
        .select_related("criterion__methodology")
        .first()
    )
