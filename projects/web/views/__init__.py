"""Public page views: thin, each reads through projects.selectors and renders one template."""

from .compare import compare
from .custom_ranking import custom_ranking
from .errors import not_found
from .method import methodology
from .open_data import open_data
from .operators import operators
from .project import badge, project_detail, share_card
from .rankings import home
from .seo import robots_txt, sitemap

__all__ = [
    "badge",
    "compare",
    "custom_ranking",
    "home",
    "methodology",
    "not_found",
    "open_data",
    "operators",
    "project_detail",
    "robots_txt",
    "share_card",
    "sitemap",
]
