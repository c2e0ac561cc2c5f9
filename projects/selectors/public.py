"""Reads of what the public sees: published projects, their frozen ratings and history, and the
published method versions. The public pages and the API read through here, each page and list
in a fixed number of queries."""

from datetime import datetime

from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from projects.models import Assessment, Criterion, Methodology, Operator, Project, Publication
from projects.vocabularies import PublicationState

from .uncertainty import uncertainty_expression


def methodology_current() -> Methodology | None:
    """The method scores are computed under: the most recently published version."""
    return (
        Methodology.objects.filter(state=PublicationState.PUBLISHED).order_by("-published_at", "-id").first()
    )


def criteria_of(methodology: Methodology) -> QuerySet[Criterion]:
    return methodology.criteria.order_by("position")


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
            justification_ja=item.get("evidence_ja", ""),
            evidence_grade=item.get("evidence_grade", ""),
            source_url=item.get("source_url", ""),
            updated_at=datetime.fromisoformat(item["updated_at"]) if item.get("updated_at") else None,
        )
    return frozen


def frozen_ratings(project: Project) -> list[Assessment]:
    """The ratings of the project's last publication, in method order, each with its criterion
    and that criterion's method."""
    publication = project.publication
    if publication is None:
        return []
    criteria = {criterion.code: criterion for criterion in criteria_of(publication.methodology)}
    for criterion in criteria.values():
        criterion.methodology = publication.methodology
    return list(published_assessments(publication, criteria).values())


def publication_history(project: Project) -> QuerySet[Publication]:
    """A project's publications, newest first, each with its frozen card and method."""
    return project.publications.select_related("score", "methodology").order_by("-number")


def published_projects() -> QuerySet[Project]:
    """Every published project with its operator and current score card, in one query."""
    return Project.objects.published().select_related("operator", "published_score")


# What a row of the rankings table shows (projects.web.rankings): the rest of a project and its
# card (the whole card document, the texts, the links) is not read for a page of 50.
RANKING_ROW_FIELDS = (
    "slug",
    "publication",  # its id: the rank interval is read by it (projects.selectors.uncertainty)
    "name",
    "target_body",
    "phase",
    "origin",
    "operator__name",
    *(
        f"published_score__{name}"
        for name in (
            "status",
            "grade",
            "net_score",
            "net_low",
            "net_high",
            "sdg7",
            "sdg9",
            "sdg12",
            "debris_level",
            "equity_level",
            "debris_severe",
            "equity_severe",
        )
    ),
)


def ranking_table_projects() -> QuerySet[Project]:
    """Published projects as the rankings table reads them: the row's columns only."""
    return published_projects().only(*RANKING_ROW_FIELDS)


def ranking_rows_by_id(ids: list[int]) -> dict[int, Project]:
    """The published projects among ``ids`` as the rankings table reads them, by id: looked up
    by primary key alone (with the published filter in SQL, SQLite walked the whole ranking
    index to find a page of them), the state checked on the rows read."""
    projects = (
        Project.objects.filter(pk__in=ids)
        .select_related("operator", "published_score")
        .only("state", *RANKING_ROW_FIELDS)
        .order_by()
    )
    return {project.pk: project for project in projects if project.state == PublicationState.PUBLISHED}


def ranked_projects() -> QuerySet[Project]:
    """The rated published projects, highest net score first (ties by name and slug).

    Rated: the engine gives a net score to rated cards only (a property test holds it to that),
    so this is read off the ranking index without opening each card."""
    return (
        Project.objects.published()
        .filter(published_net__isnull=False)
        .order_by(F("published_net").desc(nulls_last=True), "name", "slug")
    )


def synced_projects() -> QuerySet[Project]:
    """Published projects, and withdrawn ones (to be shown as tombstones: an incremental sync
    sees them go)."""
    return Project.objects.filter(
        Q(state=PublicationState.PUBLISHED) | Q(publication__kind=Publication.Kind.WITHDRAWAL)
    )


def project_for_page(slug: str) -> Project | None:
    """A published project by slug (None for a draft or an unknown slug)."""
    return (
        published_projects()
        .select_related("published_score__methodology", "publication__ratings_of")
        # The uncertainty figures of its publication, if any (projects.selectors.uncertainty).
        .annotate(uncertainty_stored=uncertainty_expression())
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
        .order_by(Lower("name"), "name")
        .prefetch_related(Prefetch("projects", queryset=projects, to_attr="published_projects"))
    )


def published_methodologies() -> QuerySet[Methodology]:
    return Methodology.objects.filter(state=PublicationState.PUBLISHED).order_by("-published_at", "-id")


def methodologies_with_criteria() -> QuerySet[Methodology]:
    """The published method versions, newest first, each with its criteria (two queries)."""
    return (
        Methodology.objects.filter(state=PublicationState.PUBLISHED)
        .prefetch_related("criteria")
        .order_by("-published_at", "-version")
    )


def methodology_for_page(version: str | None = None) -> Methodology | None:
    """A published method version with its criteria; the current one when no version is given."""
    if version is None:
        methodology = methodology_current()
    else:
        methodology = published_methodologies().filter(version=version).first()
    if methodology is not None:
        methodology.ordered_criteria = list(criteria_of(methodology))
    return methodology
