"""Weighting profiles an API key keeps (/api/v1/profiles, the method's §9): any key, read or
write scope, keeps its own and sees no one else's. Writes go through
projects.services.saved_profiles; PUT and DELETE need If-Match (a stale write is refused)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from projects.interchange.records import json_object
from projects.models import Project, WeightingProfile
from projects.services.saved_profiles import (
    is_current,
    profile_create,
    profile_delete,
    profile_replace,
    saved_project_score,
    saved_ranking,
)
from projects.vocabularies import PublicationState

from .conditional import etag_for, require_if_match
from .pagination import PagePagination
from .permissions import api_key_of
from .views import ApiViewMixin


class KeyHolder(BasePermission):
    """Profiles belong to a key: without one, 401; with any scope, its own profiles."""

    def has_permission(self, request, view):
        if api_key_of(request) is None:
            raise exceptions.NotAuthenticated("Profiles belong to an API key: send yours (any scope).")
        return True


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100, help_text="Your name for the profile.")
    dimensions = serializers.DictField(
        child=serializers.CharField(),
        help_text="Each SDG dimension's weight, 0–100 (only the ratios count; 0 leaves a dimension out), "
        "as exact decimals. Send numbers or numeric strings; a dimension left out weighs 0.",
    )
    alpha = serializers.CharField(help_text="The risk penalty α, 0–1, as an exact decimal (sent: a number).")
    criteria = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=10),
        required=False,
        help_text="Optional criterion weights, whole numbers 0–10 in place of the method's (0: counted as "
        "not applicable). With any, the ranking is computed in the background and stored.",
    )
    version = serializers.IntegerField(read_only=True, help_text="Moves with every change.")
    ranking = serializers.CharField(
        read_only=True,
        help_text="`on_request` (dimension weights and α only) or `stored` (criterion weights).",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, profile: WeightingProfile) -> dict:
        return {
            "id": profile.pk,
            "name": profile.name,
            "dimensions": profile.dimensions,
            "alpha": profile.alpha,
            "criteria": profile.criteria,
            "version": profile.version,
            "ranking": "stored" if profile.needs_ratings else "on_request",
            "created_at": serializers.DateTimeField().to_representation(profile.created_at),
            "updated_at": serializers.DateTimeField().to_representation(profile.updated_at),
        }


class ProfileRowSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    rank = serializers.IntegerField(help_text="Under the profile: 1 + the projects with a higher net score.")
    official_rank = serializers.IntegerField(
        allow_null=True, help_text="By the published net score among the same projects (null: none)."
    )
    movement = serializers.IntegerField(allow_null=True, help_text="official_rank − rank: places gained.")
    net = serializers.FloatField(help_text="The net score under the profile, one decimal (halves up).")
    grade = serializers.CharField()
    grade_cap = serializers.CharField(allow_null=True)


class ProfileRankingPagination(PagePagination):
    """Pages of a profile's ranking, saying when it was computed and whether it is current."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        state = self.request.profile_state
        response.data = {**state, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"] = {
            "computed_at": {
                "type": "string",
                "format": "date-time",
                "nullable": True,
                "description": "When the stored ranking was computed (profiles with criterion weights); "
                "null for one ranked on request, or not computed yet.",
            },
            "current": {
                "type": "boolean",
                "description": "Whether the ranking is of this version of the profile and of the data as "
                "they are now (always true when ranked on request).",
            },
            **response["properties"],
        }
        response["required"] = ["computed_at", "current", *response["required"]]
        return response


class KeyOwnedMixin(ApiViewMixin):
    """Views of what an API key keeps for itself (profiles, webhooks): a key of any scope, its own
    objects only, never the shared read cache (projects.api.cache) nor a replica."""

    permission_classes = [KeyHolder]
    pagination_class = None
    filter_backends = []
    key_private = True  # the key's own data, not the public record: writes need no staff owner
    replica_reads = False  # what was just written is read back at once
    owned_model = None  # what the key keeps (a model with an ``api_key``)
    shown_as = None  # its representation, whose ETag a change must name in If-Match

    def owned(self):
        return self.owned_model.objects.filter(api_key=api_key_of(self.request))

    def one(self):
        """The key's object named in the URL (404 for anyone else's)."""
        return get_object_or_404(self.owned(), pk=self.kwargs["pk"])

    def current(self):
        """The object, the request's If-Match naming the representation read (428, 412)."""
        owned = self.one()
        require_if_match(self.request, etag_for(self.shown_as(owned).data))
        return owned

    def answer(self, owned, status_code: int = 200, extra: dict | None = None, **headers) -> Response:
        """The object as written, with its ETag (of the representation alone, never ``extra``)."""
        data = self.shown_as(owned).data
        etag = etag_for(data)
        return Response({**data, **(extra or {})}, status=status_code, headers={"ETag": etag, **headers})


class ProfileViewMixin(KeyOwnedMixin):
    owned_model = WeightingProfile
    shown_as = ProfileSerializer

    def profile(self) -> WeightingProfile:
        return self.one()


@extend_schema(tags=["profiles"])
class ProfileListView(ProfileViewMixin, generics.GenericAPIView):
    serializer_class = ProfileSerializer

    @extend_schema(
        summary="Your key's weighting profiles",
        description="The profiles this API key keeps (any scope; no key sees another's), oldest first.",
        responses=ProfileSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return Response([ProfileSerializer(profile).data for profile in self.owned()])

    @extend_schema(
        summary="Keep a new weighting profile",
        description="Dimension weights, α and optional criterion weights (the method's §9), checked as the "
        "engine takes them: a 400 names each wrong field (`dimensions.sdg7`, `alpha`, `criteria.S7.1`).",
        responses={201: ProfileSerializer},
    )
    def post(self, request, *args, **kwargs):
        profile = profile_create(api_key_of(request), json_object(request.data))
        return self.answer(profile, status.HTTP_201_CREATED, Location=f"/api/v1/profiles/{profile.pk}")


@extend_schema(tags=["profiles"])
class ProfileDetailView(ProfileViewMixin, generics.GenericAPIView):
    serializer_class = ProfileSerializer

    @extend_schema(
        summary="One of your key's weighting profiles",
        description="Its weights as exact decimals, and its version. The ETag names the version for "
        "If-Match.",
    )
    def get(self, request, *args, **kwargs):
        return Response(ProfileSerializer(self.profile()).data)

    @extend_schema(
        summary="Replace a weighting profile (If-Match)",
        description="Every field replaced. If-Match must carry the ETag you read: a stale write is "
        "refused (412).",
    )
    def put(self, request, *args, **kwargs):
        profile = self.current()
        return self.answer(profile_replace(profile, json_object(request.data), version=profile.version))

    @extend_schema(
        summary="Delete a weighting profile (If-Match)",
        description="The profile and its stored ranking go. If-Match must carry the ETag you read "
        "(412 if stale).",
        responses={204: None},
    )
    def delete(self, request, *args, **kwargs):
        profile = self.current()
        profile_delete(profile, version=profile.version)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _score(row, project: dict) -> dict:
    return {
        "slug": project["slug"],
        "name": project["name"],
        "rank": row.rank,
        "official_rank": row.official_rank,
        "movement": row.movement,
        "net": row.net,
        "grade": row.grade,
        "grade_cap": row.grade_cap,
    }


@extend_schema(tags=["profiles"])
class ProfileRankingView(ProfileViewMixin, generics.ListAPIView):
    serializer_class = ProfileRowSerializer
    pagination_class = ProfileRankingPagination

    def get_queryset(self):  # the schema's; the ranking is read in list()
        return Project.objects.none()

    @extend_schema(
        summary="The rated published projects ranked under a profile",
        description="Ranked as the official ranking is (the net score as served; ties share a rank), with "
        "each project's official rank and movement. A profile of dimension weights and α is ranked on "
        "request; one with criterion weights is served as last computed in the background, saying when "
        "(`computed_at`) and whether it is `current`.",
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        profile = self.profile()
        ranking = saved_ranking(profile)
        request.profile_state = {
            "computed_at": serializers.DateTimeField().to_representation(profile.computed_at)
            if profile.needs_ratings and profile.computed_at
            else None,
            "current": is_current(profile),
        }
        rows = self.paginate_queryset(ranking if ranking is not None else [])
        projects = {
            project["pk"]: project
            for project in Project.objects.filter(pk__in=[row.project_id for row in rows])
            .order_by()
            .values("pk", "slug", "name", "state")
            if project["state"] == PublicationState.PUBLISHED  # by primary key alone, checked here
        }
        return self.get_paginated_response(
            [_score(row, projects[row.project_id]) for row in rows if row.project_id in projects]
        )


@extend_schema(tags=["profiles"])
class ProfileProjectView(ProfileViewMixin, generics.GenericAPIView):
    serializer_class = ProfileRowSerializer

    @extend_schema(
        summary="A published project's place and score under a profile",
        description="Its rank, official rank, movement, net score and grade in the profile's ranking; "
        "404 when it has no net score under the profile (or a stored ranking does not hold it yet).",
    )
    def get(self, request, *args, **kwargs):
        profile = self.profile()
        project = get_object_or_404(
            Project.objects.published().values("pk", "slug", "name"), slug=self.kwargs["slug"]
        )
        row = saved_project_score(profile, project["pk"])
        if row is None:
            raise exceptions.NotFound(
                "This project has no net score under the profile (or is not ranked yet)."
            )
        return Response(_score(row, project))
