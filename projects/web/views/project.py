"""A project's page (score card, ratings, history) and its embeddable SVG badge."""

from csp.decorators import csp_replace
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_exempt

from projects.selectors import project_for_page, project_ratings, score_history
from projects.vocabularies import Resource, TargetBody

from ..badges import badge_for
from ..caching import public_page
from ..cards import card_view
from ..context import page_context
from ..feeds import feed_links
from ..linked_data import rated_work
from ..method_texts import MethodTexts
from ..project_page import dimension_sections, history_entries, sdg_chart
from ..share_card import share_card_png
from ..uncertainty import uncertainty_block, uncertainty_view
from .errors import not_found

RESOURCE_NAMES = dict(Resource.choices)


def project_title(project, score) -> str:
    """A title that says what the page is before it is opened (a tab, a search result, a share):
    "Hera — Near-Earth asteroid project rated D"."""
    body = dict(TargetBody.choices).get(project.target_body, project.target_body)
    if score is not None and score.grade:
        return _("%(name)s — %(body)s project rated %(grade)s") % {
            "name": project.name,
            "body": body,
            "grade": score.grade,
        }
    return _("%(name)s — %(body)s project, not yet rated") % {"name": project.name, "body": body}


@public_page
def project_detail(request, slug):
    project = project_for_page(slug)
    if project is None:
        return not_found(request)
    score = project.published_score
    card = sections = chart = uncertainty = None
    if score is not None:
        texts = MethodTexts(score.methodology)
        card = card_view(score.card, texts)
        sections = dimension_sections(card, project_ratings(project, score.methodology), texts)
        chart = sdg_chart(card)
        uncertainty = uncertainty_view(
            project.uncertainty_stored,
            card=card,
            texts=texts,
            criterion_names={row.code: row.name for section in sections for row in section.criteria},
        )
    japanese = (get_language() or "")[:2] == "ja"
    summary = project.summary_ja if japanese and project.summary_ja else project.summary
    title = project_title(project, score)
    badge = badge_for(project)
    context = page_context(
        request,
        title=title,
        description=summary[:300] or None,
        og_type="article",
        feeds=feed_links(project=project),
        project=project,
        summary=summary,
        resources=[RESOURCE_NAMES.get(resource, resource) for resource in project.resources],
        summary_language="ja" if summary and summary == project.summary_ja else "en",
        score=score,
        card=card,
        sections=sections,
        chart=chart,
        uncertainty_section=uncertainty_block(uncertainty) if card is not None and card.grade else "",
        history=history_entries(list(score_history(project))),
        # What the embedded badge says, for readers who cannot see it: grade, net score, demo note.
        badge_alt=f"sdgscore — {badge.description}",
    )
    context["json_ld"] = rated_work(
        request,
        title=title,
        project=project,
        score=score,
        canonical_url=context["canonical_url"],
        method_url=reverse("web:methodology"),
    )
    context["og_image"] = request.build_absolute_uri(reverse("web:share-card", args=[project.slug]))
    context["og_image_alt"] = badge.description
    return render(request, "web/project.html", context)


@public_page
def share_card(request, slug):
    """The project's card for links shared elsewhere (og:image): a PNG, in the page's language."""
    project = project_for_page(slug)
    if project is None:
        return not_found(request)
    response = HttpResponse(share_card_png(project, (get_language() or "en")[:2]), content_type="image/png")
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # fetched by other sites' previews
    return response


@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})  # the one page other sites may embed
@public_page
def badge(request, slug):
    project = project_for_page(slug)
    if project is None:
        return not_found(request)
    response = render(
        request,
        "web/badge.svg",
        {"badge": badge_for(project), "title": _("sdgscore")},
        content_type="image/svg+xml",
    )
    # Embeddable anywhere, a page with Cross-Origin-Embedder-Policy included (CORS: projects.api.cors).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
