"""The useful 404 page: what went wrong, where to go, and projects whose names come close."""

import difflib
import re

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from projects.selectors import project_choices

from ..context import page_context

MAX_SUGGESTIONS = 3


def _suggestions(path: str):
    words = [part for part in re.split(r"[/?#]", path) if part and part not in ("en", "ja", "projects")]
    if not words:
        return []
    wanted = words[-1].lower()
    projects = list(project_choices())
    by_key = {project.slug: project for project in projects}
    by_key.update({project.name.lower(): project for project in projects})
    matches = difflib.get_close_matches(wanted, list(by_key), n=MAX_SUGGESTIONS * 2, cutoff=0.5)
    unique = []
    for match in matches:
        if by_key[match] not in unique:
            unique.append(by_key[match])
    return unique[:MAX_SUGGESTIONS]


def not_found(request, exception=None):
    """Status 404 with links onward; usable as ``handler404``."""
    context = page_context(
        request,
        title=_("Page not found"),
        requested_path=request.path,
        suggestions=_suggestions(request.path),
        noindex=True,
    )
    return render(request, "web/404.html", context, status=404)
