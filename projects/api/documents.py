"""Whole documents: the two exports and the OpenAPI schema. Each is conditional like every
other read (ETag, Last-Modified, 304), and refuses query parameters it does not understand."""

import hashlib
from functools import cache
from pathlib import Path

from django.http import StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, generics, renderers

from projects.freshness import site_generation
from projects.interchange.csv_export import score_rows
from projects.interchange.exporter import projects_export
from projects.models import Project

from .backends import StrictFilterBackend
from .parsers import SafeJSONRenderer

REVALIDATE = "max-age=0, must-revalidate"


@cache
def _code_digest() -> str:
    """A digest of the code that writes the exports: a deployment that changes what they
    hold changes their ETag even when the data did not change."""
    here = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted([*here.parent.joinpath("interchange").glob("*.py"), here / "rows.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def export_validators(kind: str) -> tuple[str, float]:
    """(ETag, Last-Modified timestamp) of an export of the published record: both move with the
    site generation, which moves with every change the public could see."""
    generation = site_generation()
    token = f"{kind}:{generation.number}:{generation.changed_at.isoformat()}:{_code_digest()}"
    etag = '"' + hashlib.blake2b(token.encode(), digest_size=16).hexdigest() + '"'
    return etag, generation.changed_at.timestamp()


def conditional_stream(request, kind: str, content, content_type: str, filename: str):
    """A streamed export, or 304 when the client's validators match the current one."""
    etag, modified = export_validators(kind)
    not_modified = get_conditional_response(request, etag=etag, last_modified=int(modified))
    if not_modified is not None:
        response = not_modified
    else:
        response = StreamingHttpResponse(content(), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = REVALIDATE
    return response


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # The export streams its own CSV; what reaches a renderer here is a problem document.
        return SafeJSONRenderer().render(data)


@extend_schema(
    summary="Every published project with its ratings and score card, in the interchange format",
    description="The whole published record in one file (format sdgscore.projects/1), streamed. "
    "Conditional GET: ETag and Last-Modified, 304 when unchanged.",
    responses={
        (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="sdgscore.projects/1")
    },
)
class ExportJSONView(generics.GenericAPIView):
    pagination_class = None
    filter_backends = [StrictFilterBackend]

    def get(self, request, *args, **kwargs):
        self.filter_queryset(Project.objects.none())  # refuses unknown parameters
        return conditional_stream(
            request,
            "projects.json",
            lambda: projects_export(published_only=True),
            "application/json",
            "sdgscore-projects.json",
        )


@extend_schema(
    summary="The score cards of every published project as CSV, one row a project",
    description="The figures of every published project's card, for spreadsheets. Conditional GET: "
    "ETag and Last-Modified, 304 when unchanged.",
    responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row")},
)
class ExportCSVView(generics.GenericAPIView):
    pagination_class = None
    renderer_classes = [CSVRenderer, SafeJSONRenderer]
    filter_backends = [StrictFilterBackend]

    def get(self, request, *args, **kwargs):
        self.filter_queryset(Project.objects.none())
        return conditional_stream(
            request,
            "scores.csv",
            lambda: score_rows(Project.objects.published()),
            "text/csv; charset=utf-8",
            "sdgscore-scores.csv",
        )


class SchemaView(SpectacularAPIView):
    """drf-spectacular's schema view, with ``?format=json`` or ``?format=yaml`` honoured (besides
    the Accept header) and a strong ETag: the same document gets 304."""

    FORMATS = {"json": "application/vnd.oai.openapi+json", "yaml": "application/vnd.oai.openapi"}

    def perform_content_negotiation(self, request, force=False):
        wanted = request.query_params.get("format")
        if wanted is None:
            return super().perform_content_negotiation(request, force)
        for renderer in self.get_renderers():
            if renderer.media_type == self.FORMATS.get(wanted):
                return renderer, renderer.media_type
        if force:  # rendering the refusal itself: a problem document, in JSON
            renderer = next(r for r in self.get_renderers() if r.media_type == self.FORMATS["json"])
            return renderer, renderer.media_type
        message = f"{wanted[:20]} is not allowed; use one of: json, yaml."
        raise exceptions.ValidationError({"format": [message]})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code != 200:
            return response
        response.render()
        etag = '"' + hashlib.blake2b(response.content, digest_size=16).hexdigest() + '"'
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            response = not_modified
        response["ETag"] = etag
        response["Cache-Control"] = REVALIDATE
        response["Vary"] = "Accept"
        return response
