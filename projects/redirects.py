"""Former slugs: a renamed project's old addresses answer with a permanent redirect, forever.

Only answers that would be 404 are looked at, so the lookup costs nothing on any other request.
Pages answer 301; the API answers 308, so that clients repeat a write with its method and body."""

import re

from django.http import HttpResponsePermanentRedirect

from projects.models import SlugRedirect

PROJECT_PATH = re.compile(
    r"^(?P<prefix>/api/v1/projects/|/[a-z]{2}/projects/)(?P<slug>[-a-zA-Z0-9_]+)(?P<rest>/.*)?$"
)


class PermanentRedirect308(HttpResponsePermanentRedirect):
    status_code = 308


class FormerSlugMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        match = PROJECT_PATH.match(request.path)
        if match is None:
            return response
        former = (
            SlugRedirect.objects.filter(old_slug=match["slug"], project__state="published")
            .values_list("project__slug", flat=True)
            .first()
        )
        if former is None:
            return response
        location = f"{match['prefix']}{former}{match['rest'] or ''}"
        query = request.META.get("QUERY_STRING")
        if query:
            location = f"{location}?{query}"
        redirect = (
            PermanentRedirect308 if match["prefix"].startswith("/api/") else HttpResponsePermanentRedirect
        )
        return redirect(location)
