"""Open data: the downloads, their formats, the licence and the partner API."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from ..caching import public_page
from ..context import page_context
from ..linked_data import dataset

# Served by the partner API (projects/api/), outside the language prefix.
DOWNLOADS = {
    "projects_json": "/api/v1/export/projects.json",
    "scores_csv": "/api/v1/export/scores.csv",
    "api_docs": "/api/docs/",
}
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


@public_page
def open_data(request):
    description = _("Download every published score as JSON or CSV under CC BY 4.0, or use the API.")
    context = page_context(
        request,
        title=_("Open data"),
        description=description,
        downloads=DOWNLOADS,
        licence_url=LICENCE_URL,
        json_ld=dataset(
            request,
            name="sdgscore: space-resource projects rated on SDGs 7, 9 and 12",
            description=str(description),
            licence=LICENCE_URL,
            downloads=DOWNLOADS,
        ),
    )
    return render(request, "web/open_data.html", context)
