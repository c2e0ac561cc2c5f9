"""Compare two to four projects side by side, chosen with a plain form (no script needed)."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from projects.selectors import project_choices, projects_by_slug

from ..caching import public_page
from ..cards import card_view
from ..context import page_context
from ..method_texts import MethodTexts

MIN_PROJECTS = 2
MAX_PROJECTS = 4


@public_page
def compare(request):
    wanted = list(dict.fromkeys(slug for slug in request.GET.getlist("p") if slug))
    found = projects_by_slug(wanted)
    unknown = [slug for slug in wanted if slug not in {project.slug for project in found}]
    problem = ""
    if wanted and not MIN_PROJECTS <= len(found) <= MAX_PROJECTS:
        problem = _("Choose between two and four projects to compare.")
    columns = []
    if not problem and len(found) >= MIN_PROJECTS:
        texts_by_method = {}
        for project in found:
            card = None
            if project.published_score is not None:
                methodology = project.published_score.methodology
                texts = texts_by_method.setdefault(methodology.pk, MethodTexts(methodology))
                card = card_view(project.published_score.card, texts)
            columns.append({"project": project, "card": card})
    context = page_context(
        request,
        title=_("Compare projects"),
        description=_("Two to four space-resource projects side by side: grades, SDG scores and risks."),
        choices=project_choices(),
        chosen=set(wanted),
        columns=columns,
        unknown=unknown,
        problem=problem,
        dimension_keys=("sdg7", "sdg9", "sdg12"),
    )
    return render(request, "web/compare.html", context, status=400 if problem or unknown else 200)
