"""Public page URLs, mounted under a language prefix (/en/, /ja/) by sdgscore/urls.py.

sitemap.xml, robots.txt and the 404 handler live at the site root: sdgscore/urls.py wires
``views.sitemap``, ``views.robots_txt`` and ``views.not_found``.
"""

from django.urls import path

from . import feeds, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("feeds/publications.atom", feeds.site_feed, name="feed"),
    path("projects/<slug:slug>/feed.atom", feeds.project_feed, name="project_feed"),
    path("operators/<slug:slug>/feed.atom", feeds.operator_feed, name="operator_feed"),
    path("methodology/<str:version>/feed.atom", feeds.method_feed, name="method_feed"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("projects/<slug:slug>/badge.svg", views.badge, name="badge"),
    path("projects/<slug:slug>/card.png", views.share_card, name="share-card"),
    path("methodology/", views.methodology, name="methodology"),
    path("methodology/<str:version>/", views.methodology, name="methodology_version"),
    path("rankings/custom/", views.custom_ranking, name="custom_ranking"),
    path("compare/", views.compare, name="compare"),
    path("operators/", views.operators, name="operators"),
    path("open-data/", views.open_data, name="open_data"),
]
