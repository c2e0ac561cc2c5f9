"""The site's URL map plus the root lines the public pages ask for (sitemap, robots, 404 handler).

Used with ``pytest.mark.urls`` until sdgscore/urls.py carries these lines itself.
"""

from django.urls import path

from projects.web.views import not_found, robots_txt, sitemap
from sdgscore.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("sitemap.xml", sitemap, name="sitemap"),
    path("robots.txt", robots_txt, name="robots_txt"),
    *site_urlpatterns,
]
handler404 = not_found
