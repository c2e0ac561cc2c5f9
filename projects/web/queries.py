"""Reads for the public pages: published projects only, each page in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from projects.models import Assessment, Criterion, Methodology, Operator, Project, Publication
from projects.selectors import criteria_of, methodology_current, publication_history, published_assessments
from projects.vocabularies import PublicationState


def published_projects() -> QuerySet[Project]:
    """Every published project with its operator and current score card, in one query."""
    return Project.objects.published().select_related("operator", "published_score")


def project_for_page(slug: str) -> Project | None:
    """A published project by slug (None for a draft or an unknown slug)."""
    return (
        published_projects()
        .select_related("published_score__methodology", "publication__ratings_of")
        .filter(slug=slug)
        .first()
    )


def project_ratings(project: Project, methodology: Methodology) -> list[tuple[Criterion, Assessment | None]]:
    """Each criterion of ``methodology`` with the project's rating as last published (None when
    missing): analysts' later edits wait for a reviewer."""
    criteria = list(criteria_of(methodology))
    frozen = published_assessments(project.publication, {criterion.code: criterion for criterion in criteria})
    return [(criterion, frozen.get(criterion.code)) for criterion in criteria]


def score_history(project: Project) -> QuerySet[Publication]:
    """The project's publications, newest first, each with its card, method and change line."""
    return publication_history(project)


def projects_by_slug(slugs: list[str]) -> list[Project]:
    """The published projects among ``slugs``, in the order given."""
    projects = published_projects().select_related("published_score__methodology").filter(slug__in=slugs)
    found = {project.slug: project for project in projects}
    return [found[slug] for slug in slugs if slug in found]


def project_choices() -> QuerySet[Project]:
    """Slugs and names of every published project, for pickers and suggestions."""
    return Project.objects.published().order_by("name").only("slug", "name", "origin")


def operators_with_projects() -> QuerySet[Operator]:
    """Operators that have a published project, each with those projects (two queries)."""
    projects = Project.objects.published().select_related("published_score").order_by("name")
    return (
        Operator.objects.filter(projects__state=PublicationState.PUBLISHED)
        .distinct()
        .order_by("name")
        .prefetch_related(Prefetch("projects", queryset=projects, to_attr="published_projects"))
    )


def published_methodologies() -> QuerySet[Methodology]:
    return Methodology.objects.filter(state=PublicationState.PUBLISHED).order_by("-published_at", "-id")


def methodology_for_page(version: str | None = None) -> Methodology | None:
    """A published method version with its criteria; the current one when no version is given."""
    if version is None:
        methodology = methodology_current()
    else:
        methodology = published_methodologies().filter(version=version).first()
    if methodology is not None:
        methodology.ordered_criteria = list(criteria_of(methodology))
    return methodology
