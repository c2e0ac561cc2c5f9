"""The analysts' UI: operators, projects with their ratings and score cards, method versions."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import api_keys, methodology, operators, projects  # noqa: F401  (registers the model admins)

admin.site.site_header = _("sdgscore administration")
admin.site.site_title = _("sdgscore admin")
admin.site.index_title = _("Ratings of space-resource projects")
