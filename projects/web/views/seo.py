"""For search engines: sitemap.xml and robots.txt, served at the site root."""

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from projects.selectors import published_methodologies, published_projects


class _Bilingual(Sitemap):
    """Every address in English and Japanese, each listing the other as an alternate."""

    i18n = True
    alternates = True
    x_default = True


class PageSitemap(_Bilingual):
    changefreq = "daily"

    def items(self):
        return [
            "web:home",
            "web:custom_ranking",
            "web:methodology",
            "web:compare",
            "web:operators",
            "web:open_data",
        ]

    def location(self, item):
        return reverse(item)


class ProjectSitemap(_Bilingual):
    changefreq = "weekly"

    def items(self):
        return published_projects().order_by("slug")

    def location(self, item):
        return reverse("web:project", args=[item.slug])

    def lastmod(self, item):
        return item.updated_at


class MethodologySitemap(_Bilingual):
    changefreq = "yearly"

    def items(self):
        return published_methodologies()

    def location(self, item):
        return reverse("web:methodology_version", args=[item.version])


SITEMAPS = {"pages": PageSitemap, "projects": ProjectSitemap, "methods": MethodologySitemap}


@cache_control(public=True, max_age=3600)
def sitemap(request):
    return sitemap_view(request, sitemaps=SITEMAPS)


@require_safe
@cache_control(public=True, max_age=86400)
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /i18n/",
        "Allow: /",
        "",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
