"""The API's views: thin, reading through selectors and writing through services."""

from contextlib import ExitStack

from django.db import transaction
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.response import Response

from projects import actors, routing, selectors
from projects.interchange.exporter import project_record
from projects.interchange.records import json_object, project_validate_record
from projects.models import Assessment, Criterion, Project, Publication
from projects.scoring import Profile, ProfileError, round_half_up
from projects.selectors import (
    criteria_of,
    frozen_ratings,
    listed_operators,
    methodologies_with_criteria,
    methodology_current,
    public_summary,
    publication_history,
    ranked_projects,
    synced_projects,
    working_assessment,
    working_assessments,
)
from projects.services.profiles import profile_from_query, profile_ranking
from projects.services.projects import assessment_set
from projects.services.ratings import assessment_remove
from projects.services.scoring import method_spec
from projects.services.writes import project_save_record
from projects.vocabularies import PublicationState

from . import serializers as api
from .backends import StrictFilterBackend, refuse_unknown_parameters
from .conditional import ConditionalMixin, etag_for, require_if_match
from .cors import refuse_unlisted_origin
from .filters import ProjectFilter
from .pagination import PagePagination, SyncPagination
from .permissions import api_key_of, may_see_drafts
from .rows import project_rows


def visible_projects(request):
    """Published projects, and drafts too for keys that write them (with their working cards)."""
    return selectors.visible_projects(drafts=may_see_drafts(request))


def latest(*moments):
    moments = [moment for moment in moments if moment is not None]
    return max(moments) if moments else None


class ProjectRowsMixin:
    """Projects are read as rows (``project_rows``), never as model instances: a page of 50
    then costs a little more than its query. The request's filters and ordering are applied to
    the model queryset, which gives the count and Last-Modified in one query
    (``selection_summary``), and the page is read from its row query, per request, never kept."""

    def rows(self, projects, extra: tuple[str, ...] = ()):
        return project_rows(projects, drafts=may_see_drafts(self.request), extra=extra)

    def paginate_queryset(self, queryset):
        if hasattr(self.paginator, "known_count"):
            self.summary = self.selection_summary(queryset)
            self.paginator.known_count = self.summary["count"]
        return super().paginate_queryset(self.rows(queryset))

    def selection_summary(self, projects) -> dict:
        """How many projects the request selects and the newest change among them, in one
        query (the count reads every match, and the newest date comes with it); for published
        data, kept per site generation (projects.selectors.summaries)."""
        if may_see_drafts(self.request):
            # Write keys also see drafts and working cards: their last change is changed_at.
            return projects.order_by().aggregate(count=Count("pk"), newest=Max("changed_at"))
        return public_summary(projects, count=Count("pk"), newest=Max("updated_at"))

    def list_last_modified(self):
        summary = getattr(self, "summary", None)
        if summary is None:  # a list without page numbers (the sync's cursor pages)
            summary = self.selection_summary(self.filter_queryset(self.get_queryset()))
        return summary["newest"]


class ApiViewMixin(ConditionalMixin):
    filter_backends = [StrictFilterBackend]
    pagination_class = PagePagination
    modified_field = "updated_at"  # the field whose newest value dates a list
    key_private = False  # a view of the key's own data (profiles): see initial()
    replica_reads = True  # published data may be read from a replica

    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as self.acting:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_unknown_parameters(request, self)  # on every view, whether it filters or not
        api_key = api_key_of(request)
        refuse_unlisted_origin(request, api_key)
        # Writes (a write key, checked above) are the key owner's changes, through the API.
        # A key's own data (its weighting profiles) is no change of the public record.
        if request.method not in ("GET", "HEAD", "OPTIONS") and api_key is not None and not self.key_private:
            owner = api_key.owner
            if owner is None or not (owner.is_active and owner.is_staff):
                raise exceptions.PermissionDenied(
                    "This API key's owner is not an active staff member: its writes cannot be attributed."
                )
            self.acting.enter_context(actors.acting(owner, actors.Channel.API, api_key=api_key))
        # Once the key is checked (on the primary): reads that tolerate a replica's lag.
        if request.method in ("GET", "HEAD") and not may_see_drafts(request) and self.replica_reads:
            routing.read_from_a_replica()  # for this request only (routing.one_request)

    def check_permissions(self, request):
        # An unsupported method is a 405 for everyone, before any question of keys.
        if request.method.lower() not in self.http_method_names or not hasattr(self, request.method.lower()):
            raise exceptions.MethodNotAllowed(request.method)
        super().check_permissions(request)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        self.last_modified = self.list_last_modified()
        return response

    def filter_queryset(self, queryset):
        # The list and its Last-Modified read the same selection (of the same model, from
        # get_queryset): build and validate the filter set once per request.
        filtered = self.__dict__.setdefault("_filtered", {})
        if queryset.model not in filtered:
            filtered[queryset.model] = super().filter_queryset(queryset)
        return filtered[queryset.model]

    def list_last_modified(self):
        """The newest change among everything the list selects, not only the page shown: a
        change anywhere in the set can move what a page holds."""
        queryset = self.filter_queryset(self.get_queryset())
        return queryset.order_by().aggregate(newest=Max(self.modified_field))["newest"]


@extend_schema_view(
    list=extend_schema(
        summary="List projects", description="Filter, search, order and page through projects."
    ),
    retrieve=extend_schema(
        summary="A project with its current score card",
        description="The project as last published, with its operator, figures and score card. Write-scope "
        "keys also see drafts, the facts waiting for publication and the working card. Conditional GET: "
        "ETag and Last-Modified, 304 when unchanged.",
    ),
    create=extend_schema(
        summary="Create a draft project (write scope)",
        description="A new project as a draft of the key owner's, with its ratings if given; the public "
        "sees it once a reviewer publishes it. The answer carries its ETag and Location.",
        request=api.ProjectWriteSerializer,
        responses={201: api.ProjectSerializer},
    ),
    update=extend_schema(
        summary="Replace a project (write scope, If-Match)",
        description="Every fact of the project (and its ratings, if given) replaced, as a draft change. "
        "If-Match must carry the ETag you read: a stale write is refused (412).",
        request=api.ProjectWriteSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some fields of a project (write scope, If-Match)",
        description="The fields given changed, the others kept, as a draft change. If-Match must carry "
        "the ETag you read: a stale write is refused (412).",
        request=api.ProjectWriteSerializer,
    ),
)
class ProjectViewSet(
    ProjectRowsMixin,
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = api.ProjectSerializer
    filterset_class = ProjectFilter
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return visible_projects(self.request).order_by("name", "slug")

    def row(self) -> dict:
        """The project named in the URL as a row (404 when the client may not see it)."""
        extra = ("operator__updated_at", "version")
        # Filters apply to a single project too (or are refused).
        projects = self.filter_queryset(self.get_queryset())
        return get_object_or_404(self.rows(projects, extra), slug=self.kwargs["slug"])

    def retrieve(self, request, *args, **kwargs):
        row = self.row()
        self.last_modified = latest(row.get("changed_at", row["updated_at"]), row["operator__updated_at"])
        self.etag_version = self.version_of(row)
        return Response(self.get_serializer(row).data)

    def version_of(self, row: dict) -> int | None:
        """What the project's ETag carries besides its representation: to keys that see drafts
        (and write), its version, which every change of its facts or working ratings moves."""
        return row["version"] if may_see_drafts(self.request) else None

    def etag(self, row: dict) -> str:
        return etag_for(self.get_serializer(row).data, self.version_of(row))

    def create(self, request, *args, **kwargs):
        row = self._save(project_validate_record(record=request.data, expected_slug=None), create=True)
        data = self.get_serializer(row).data
        headers = {"ETag": self.etag(row), "Location": f"/api/v1/projects/{row['slug']}"}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            # Lock the row: the version checked against If-Match is the version changed.
            self.row()
            project = self.get_queryset().select_for_update(of=("self",)).get(slug=self.kwargs["slug"])
            body = json_object(request.data)
            if partial:
                stored = project_record(project)
                record = {k: v for k, v in stored.items() if k not in {"score", "assessments"}}
                record.update(body)
            else:
                record = dict(body)
            # The address names the project (its published slug, a rename waiting or not).
            record["slug"] = body.get("slug", project.slug)
            # A bad body is a 400 whatever If-Match says; a good one must name the current version.
            clean = project_validate_record(record=record, expected_slug=project.slug)
            require_if_match(request, self.etag(self.row()))
            row = self._save(clean)
        data = self.get_serializer(row).data
        return Response(data, headers={"ETag": self.etag(row)})

    def _save(self, clean: dict, *, create: bool = False) -> dict:
        project = project_save_record(clean=clean, create=create)
        return self.rows(visible_projects(self.request), extra=("version",)).get(pk=project.pk)


@extend_schema(
    summary="Rated projects ranked by net score, under the method's weights or your own",
    description="Filterable like /projects. With `weights` and/or `alpha` (the method's §9), the "
    "projects are ranked by their net score under those weights, each with its `profile` score, its "
    "official rank and its movement. Bad weights are a 400 naming the parameter.",
    parameters=[
        OpenApiParameter(
            "weights",
            str,
            description="Dimension weights, each from 0 to 100, as `sdg7:2,sdg9:1,sdg12:1`; a dimension "
            "left out weighs 0, at least one must weigh more than 0. Without it, the method's weights.",
            pattern=r"^[a-z0-9]+:[0-9.]+(,[a-z0-9]+:[0-9.]+)*$",
        ),
        OpenApiParameter(
            "alpha",
            float,
            description="The risk penalty α, a decimal from 0 to 1 such as 0.3. Without it, the method's.",
        ),
    ],
)
class RankingView(ProjectRowsMixin, ApiViewMixin, generics.ListAPIView):
    serializer_class = api.RankedProjectSerializer
    filterset_class = ProjectFilter
    query_parameters = ("weights", "alpha")

    def get_queryset(self):
        return ranked_projects()

    def rows(self, projects, extra: tuple[str, ...] = ()):
        return super().rows(projects, extra=("published_net", *extra))

    def profile(self) -> Profile | None:
        """The weights the request gives (None: the method's own ranking)."""
        params = self.request.query_params
        if "weights" not in params and "alpha" not in params:
            return None
        methodology = methodology_current()
        if methodology is None:
            raise exceptions.ValidationError({"weights": ["No method is published yet."]})
        for name in ("weights", "alpha", "ordering"):
            if len(params.getlist(name)) > 1:
                raise exceptions.ValidationError({name: ["Give this parameter once."]})
        if "ordering" in params:
            raise exceptions.ValidationError(
                {"ordering": ["A ranking under weights is ordered by its net score: leave ordering out."]}
            )
        try:
            return profile_from_query(method_spec(methodology), params.get("weights"), params.get("alpha"))
        except ProfileError as error:
            raise exceptions.ValidationError({error.field: [error.message]}) from None

    def paginate_queryset(self, queryset):
        """The page, each project with its rank within the selection by net score, whatever the
        order of the rows: one more than the number of projects with a higher net score (ties
        share a rank)."""
        profile = self.profile()
        if profile is not None:
            return self.paginate_under(profile, queryset)
        rows = super().paginate_queryset(queryset)
        if self.in_net_score_order():
            self.rank_in_order(rows, queryset)
        else:
            self.rank_by_counting(rows, queryset)
        return rows

    def paginate_under(self, profile: Profile, queryset) -> list[dict]:
        """A page of the ranking under ``profile`` (projects.services.profiles), of the
        selection the filters make: the page's projects then read as rows in one query."""
        self.summary = self.selection_summary(queryset)  # for Last-Modified
        filtered = any(name in self.request.query_params for name in ProjectFilter.base_filters)
        selected = queryset.order_by().values_list("pk", flat=True) if filtered else None
        ranking = profile_ranking(profile, selected=selected)
        self.paginator.known_count = None
        ranked = PagePagination.paginate_queryset(self.paginator, ranking, self.request, view=self)
        # By primary key alone: with the selection's filters (published, rated), SQLite walked
        # the whole ranking index to find 50 projects. The ranking holds published projects
        # only; the state read with them makes sure.
        page = Project.objects.filter(pk__in=[r.project_id for r in ranked]).order_by()
        found = {
            row["pk"]: row
            for row in self.rows(page, extra=("state",))
            if row["state"] == PublicationState.PUBLISHED
        }
        return [
            {
                **found[item.project_id],
                "rank": item.rank,
                "profile": {
                    "net": round_half_up(item.net, 1),
                    "grade": item.grade,
                    "grade_cap": item.grade_cap,
                    "official_rank": item.official_rank,
                    "movement": item.movement,
                },
            }
            for item in ranked
            if item.project_id in found
        ]

    def in_net_score_order(self) -> bool:
        ordering = self.request.query_params.get("ordering")
        return not ordering or ordering.split(",")[0].strip() == "-net_score"

    def rank_in_order(self, rows: list[dict], queryset) -> None:
        """Rows in net-score order: only the first of the page needs counting (a window
        function would rank every project of the selection for each page)."""
        start = self.paginator.page.start_index() - 1
        for index, row in enumerate(rows):
            if index == 0:
                row["rank"] = queryset.filter(published_net__gt=row["published_net"]).count() + 1
            elif row["published_net"] == rows[index - 1]["published_net"]:
                row["rank"] = rows[index - 1]["rank"]
            else:  # every project before it in the order has a higher net score
                row["rank"] = start + index + 1

    def rank_by_counting(self, rows: list[dict], queryset) -> None:
        """Rows in another order: the projects above each net score of the page, counted in one
        query over the selection."""
        nets = sorted({row["published_net"] for row in rows})
        if not nets:
            return
        named = {f"above_{index}": net for index, net in enumerate(nets)}
        above = queryset.order_by().aggregate(
            **{name: Count("pk", filter=Q(published_net__gt=net)) for name, net in named.items()}
        )
        higher = {net: above[name] for name, net in named.items()}
        for row in rows:
            row["rank"] = higher[row["published_net"]] + 1


@extend_schema(
    summary="All projects in order of last change, for full syncs (cursor paging)",
    description="Projects withdrawn from publication appear as tombstones (`withdrawn: true`), so that an "
    "incremental sync removes them.",
    responses=PolymorphicProxySerializer(
        component_name="SyncItem",
        serializers=[api.SyncProjectSerializer, api.TombstoneSerializer],
        resource_type_field_name=None,
        many=True,
    ),
)
class SyncView(ProjectRowsMixin, ApiViewMixin, generics.ListAPIView):
    serializer_class = api.SyncProjectSerializer
    pagination_class = SyncPagination
    filterset_class = None

    def get_queryset(self):
        if may_see_drafts(self.request):
            return visible_projects(self.request)
        return synced_projects()

    def rows(self, projects, extra: tuple[str, ...] = ()):
        # Whether the project was withdrawn (updated_at, the cursor's position, is read anyway).
        return super().rows(projects, extra=("publication__kind", *extra))


class ProjectChildMixin(ApiViewMixin):
    """Views below /projects/{slug}/: 404 when the project is not visible to the client."""

    def project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project = get_object_or_404(visible_projects(self.request), slug=self.kwargs["slug"])
        return self._project


@extend_schema(
    summary="A project's ratings as last published",
    description="Write-scope keys get the working ratings (published or not), the ones they write.",
)
class AssessmentListView(ProjectChildMixin, generics.ListAPIView):
    serializer_class = api.AssessmentSerializer
    pagination_class = None
    queryset = Assessment.objects.none()  # for the schema; get_queryset is per project

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return working_assessments(self.project(), methodology_current())

    def list(self, request, *args, **kwargs):
        project = self.project()
        self.filter_queryset(Assessment.objects.none())  # refuses unknown parameters
        ratings = list(self.get_queryset()) if may_see_drafts(request) else frozen_ratings(project)
        moments = [a.updated_at for a in ratings]
        self.last_modified = latest(project.updated_at, *moments)
        return Response(self.get_serializer(ratings, many=True).data)


@extend_schema_view(
    get=extend_schema(
        summary="One rating",
        description="A criterion's rating of the project: as last published, or the working one for "
        "write-scope keys. 404 for a criterion the method does not have or a rating that is missing.",
    ),
    put=extend_schema(
        summary="Set one rating (write scope; If-Match when it exists)",
        description="The criterion's rating set as a draft change; the working card follows at once. "
        "Replacing an existing rating needs If-Match with its ETag.",
        request=api.AssessmentWriteSerializer,
    ),
    delete=extend_schema(
        summary="Remove one rating: the criterion becomes missing (write scope, If-Match)",
        description="A missing criterion widens the score's range; it is never counted as 0.",
    ),
)
class AssessmentDetailView(ProjectChildMixin, generics.GenericAPIView):
    serializer_class = api.AssessmentSerializer
    pagination_class = None
    queryset = Assessment.objects.none()

    def criterion(self) -> Criterion:
        return get_object_or_404(criteria_of(methodology_current()), code=self.kwargs["code"])

    def lock_project(self) -> None:
        """Hold the project's row until the write commits: the rating compared with If-Match is
        then the rating changed, and two writers of one version cannot both succeed."""
        Project.objects.select_for_update().filter(pk=self.project().pk).values_list("pk").first()

    def stored(self) -> Assessment | None:
        return working_assessment(self.project(), self.criterion())

    def shown(self) -> Assessment | None:
        """The rating a GET shows: as last published, or the working one for write-scope keys."""
        if may_see_drafts(self.request):
            return self.stored()
        code = self.criterion().code
        return next((a for a in frozen_ratings(self.project()) if a.criterion.code == code), None)

    def get(self, request, *args, **kwargs):
        assessment = self.shown()
        if assessment is None:  # a problem document like every other error (errors.py)
            raise exceptions.NotFound(f"{self.kwargs['code']} is not assessed for this project (missing).")
        self.last_modified = assessment.updated_at
        return Response(self.get_serializer(assessment).data)

    def put(self, request, *args, **kwargs):
        project, criterion = self.project(), self.criterion()
        writer = api.AssessmentWriteSerializer(data=json_object(request.data))
        writer.is_valid(raise_exception=True)
        with transaction.atomic():
            self.lock_project()
            current = self.stored()
            require_if_match(request, etag_for(self.get_serializer(current).data) if current else None)
            item = {**writer.validated_data, "criterion": criterion.code}
            assessment, _ = assessment_set(
                project=project, criterion=criterion, item=item, assessment=current
            )
        assessment = self.stored()
        data = self.get_serializer(assessment).data
        return Response(data, status=200 if current else 201, headers={"ETag": etag_for(data)})

    def delete(self, request, *args, **kwargs):
        with transaction.atomic():
            self.lock_project()
            current = self.stored()
            if current is None:
                return self.get(request, *args, **kwargs)
            require_if_match(request, etag_for(self.get_serializer(current).data))
            assessment_remove(current)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    summary="A project's score history: its publications, newest first",
    description="Each publication gives the card the public saw from then on, the note saying why, "
    'and what moved the score since the one before ("S9.1 2 → 3; net 41.0 → 44.6; grade C → C").',
)
class ScoreHistoryView(ProjectChildMixin, generics.ListAPIView):
    serializer_class = api.ScoreHistorySerializer
    modified_field = "published_at"
    queryset = Publication.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return publication_history(self.project())


@extend_schema_view(
    list=extend_schema(
        summary="List operators",
        description="The companies and agencies behind the published projects, with their project "
        "counts. Conditional GET: ETag and Last-Modified, 304 when unchanged.",
    ),
    retrieve=extend_schema(summary="An operator", description="One operator, by its slug."),
)
class OperatorViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = api.OperatorSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return listed_operators(drafts=may_see_drafts(self.request))

    def list_last_modified(self):
        operators = self.filter_queryset(self.get_queryset())
        newest = operators.order_by().aggregate(
            operator=Max("updated_at"), project=Max("projects__updated_at")
        )
        return latest(newest["operator"], newest["project"])

    def retrieve(self, request, *args, **kwargs):
        operator = self.get_object()
        self.last_modified = operator.updated_at
        return Response(self.get_serializer(operator).data)


@extend_schema_view(
    list=extend_schema(
        summary="List the published method versions",
        description="Each version with its criteria, weights, level texts and parameters, newest first.",
    ),
    retrieve=extend_schema(
        summary="A method version",
        description="One published version, by its number (for example 1.0): everything a score under "
        "it is computed from.",
    ),
)
class MethodologyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = api.MethodologySerializer
    modified_field = "published_at"  # published versions never change
    lookup_field = "version"
    lookup_value_regex = r"[0-9A-Za-z.\-]+"

    def get_queryset(self):
        return methodologies_with_criteria()

    def retrieve(self, request, *args, **kwargs):
        methodology = self.get_object()
        self.last_modified = methodology.published_at
        return Response(self.get_serializer(methodology).data)
