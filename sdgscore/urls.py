"""URL map: the admin and the health check (the API and public pages come in their own modules)."""

from django.contrib import admin
from django.urls import path

from projects.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
