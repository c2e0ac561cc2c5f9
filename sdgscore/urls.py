"""URL map: admin, health check, the partner API (/api/) and the public pages (/en/, /ja/)."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from projects.views import favicon, floor, healthz
from projects.web.views import robots_txt, sitemap

urlpatterns = [
    path("sitemap.xml", sitemap, name="sitemap"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/", include("projects.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
if settings.BENCH_FLOOR:  # bench/http.py's constant view, off unless asked for
    urlpatterns.append(path("bench/floor", floor, name="bench_floor"))
handler400 = "projects.views.bad_request"
handler403 = "projects.admin.refusals.permission_denied"  # the admin look for admin URLs
handler404 = "projects.views.page_not_found"
handler500 = "projects.views.server_error"

urlpatterns += i18n_patterns(path("", include("projects.web.urls")), prefix_default_language=True)
