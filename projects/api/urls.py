"""API URLs: /api/v1/... and the interactive docs at /api/docs/ (served locally, no CDN)."""

from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import documents, profiles, views, webhooks

app_name = "api"


class CriterionCodeConverter:
    """Criterion codes as the method writes them (S7.1, D5): anything else is simply not found."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,9}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(CriterionCodeConverter, "criterion")

router = SimpleRouter(trailing_slash=False)
router.register("projects", views.ProjectViewSet, basename="project")
router.register("operators", views.OperatorViewSet, basename="operator")
router.register("methodologies", views.MethodologyViewSet, basename="methodology")

v1 = [
    path("", include(router.urls)),
    path("projects/<slug:slug>/assessments", views.AssessmentListView.as_view(), name="assessment-list"),
    path(
        "projects/<slug:slug>/assessments/<criterion:code>",
        views.AssessmentDetailView.as_view(),
        name="assessment-detail",
    ),
    path("projects/<slug:slug>/scores", views.ScoreHistoryView.as_view(), name="score-history"),
    path("rankings", views.RankingView.as_view(), name="rankings"),
    path("profiles", profiles.ProfileListView.as_view(), name="profile-list"),
    path("profiles/<int:pk>", profiles.ProfileDetailView.as_view(), name="profile-detail"),
    path("profiles/<int:pk>/rankings", profiles.ProfileRankingView.as_view(), name="profile-rankings"),
    path(
        "profiles/<int:pk>/projects/<slug:slug>",
        profiles.ProfileProjectView.as_view(),
        name="profile-project",
    ),
    path("webhooks", webhooks.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>", webhooks.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/rotate-secret", webhooks.WebhookRotateView.as_view(), name="webhook-rotate"),
    path("webhooks/<int:pk>/deliveries", webhooks.DeliveryListView.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery>",
        webhooks.DeliveryDetailView.as_view(),
        name="webhook-delivery",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery>/redeliver",
        webhooks.DeliveryRedeliverView.as_view(),
        name="webhook-redeliver",
    ),
    path("sync/projects", views.SyncView.as_view(), name="sync-projects"),
    path("export/projects.json", documents.ExportJSONView.as_view(), name="export-json"),
    path("export/scores.csv", documents.ExportCSVView.as_view(), name="export-csv"),
    path("schema/", documents.SchemaView.as_view(api_version="v1"), name="schema"),
]

urlpatterns = [
    path("v1/", include(v1)),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
]
