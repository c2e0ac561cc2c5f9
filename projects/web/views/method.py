"""The methodology page, rendered from the stored method version, and the list of versions."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from projects.selectors import methodology_for_page, published_methodologies

from ..caching import public_page
from ..context import page_context
from ..feeds import feed_links
from ..method_page import (
    confidence_bands,
    dimension_entries,
    evidence_grades,
    formula_parameters,
    grade_bands,
    risk_bands,
)
from ..method_texts import MethodTexts, localised
from .errors import not_found


@public_page
def methodology(request, version=None):
    method = methodology_for_page(version)
    if method is None:
        return not_found(request)
    texts = MethodTexts(method)
    current = methodology_for_page(None)
    context = page_context(
        request,
        # The current version has two addresses; /methodology/ is the one to link and index.
        canonical_path=reverse("web:methodology") if current and current.pk == method.pk else None,
        title=method.title(texts.language) or _("Methodology"),
        description=localised(method.parameters.get("summary"), texts.language)[:300] or None,
        method=method,
        feeds=feed_links(methodology=method),
        summary=localised(method.parameters.get("summary"), texts.language),
        dimensions=dimension_entries(method, texts),
        risk_bands=risk_bands(texts),
        grade_bands=grade_bands(texts),
        confidence_bands=confidence_bands(texts),
        evidence_grades=evidence_grades(texts),
        formula=formula_parameters(texts),
        versions=published_methodologies(),
    )
    return render(request, "web/methodology.html", context)
