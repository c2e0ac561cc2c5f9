"""Your own index (method §9): the ranking under the reader's weights for SDG 7, 9 and 12 and
α, chosen with range inputs in a plain GET form (no script needed); the address is the
profile, so it can be shared. Computed by projects.services.profiles, exactly as the engine
would score each project under those weights."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.paginator import Paginator
from django.core.validators import StepValueValidator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from projects.models import Project
from projects.scoring import Profile, ProfileError, round_half_up
from projects.selectors import methodology_current, ranking_rows_by_id
from projects.services.profiles import RankedProject, RankingUnavailable, profile_ranking
from projects.services.scoring import method_spec

from ..caching import public_page
from ..context import page_context

PAGE_SIZE = 50
MAX_WEIGHT = 10
ALPHA_STEP = Decimal("0.05")
DIMENSIONS = (("sdg7", "SDG 7"), ("sdg9", "SDG 9"), ("sdg12", "SDG 12"))


def _weight(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=0, max_value=MAX_WEIGHT, required=False, validators=[StepValueValidator(1)]
    )


class WeightsForm(forms.Form):
    """The sliders: each SDG's weight 0–10 (only their ratios count) and α 0–1. Values on the
    sliders' steps only: a shared address with another value would put a slider elsewhere than
    the weight the ranking uses."""

    sdg7 = _weight("SDG 7")
    sdg9 = _weight("SDG 9")
    sdg12 = _weight("SDG 12")
    alpha = forms.DecimalField(
        label=_("Risk penalty α"),
        min_value=0,
        max_value=1,
        required=False,
        validators=[StepValueValidator(ALPHA_STEP)],
    )


@dataclass(frozen=True)
class CustomRow:
    ranked: RankedProject
    project: Project
    net: float

    @property
    def moved(self) -> str:
        """ "up", "down" or "" (the same place as in the official ranking)."""
        return "up" if self.ranked.movement > 0 else "down" if self.ranked.movement < 0 else ""

    @property
    def places(self) -> int:
        return abs(self.ranked.movement)


def official_values(spec) -> dict[str, Decimal]:
    """The method's own weights as slider positions (the smallest weighted SDG at 1) and α."""
    official = Profile.official(spec)
    smallest = min(weight for weight in official.dimensions.values() if weight > 0)
    values = {
        key: Decimal(round(float(official.dimensions.get(key, 0) / smallest), 2))
        for key, _label in DIMENSIONS
    }
    values["alpha"] = Decimal(str(round(float(official.alpha), 2)))
    return values


@public_page
def custom_ranking(request):
    methodology = methodology_current()
    spec = method_spec(methodology) if methodology else None
    defaults = official_values(spec) if spec else {}
    form = WeightsForm(request.GET)
    problems: list[tuple[str, str]] = []
    profile = None
    chosen = dict(defaults)
    if not form.is_valid():
        problems = [
            (str(form.fields[name].label), str(error))
            for name, errors in form.errors.items()
            for error in errors
        ]
    elif spec is not None:
        chosen.update({name: value for name, value in form.cleaned_data.items() if value is not None})
        try:
            profile = Profile.from_values(
                spec,
                dimensions={key: chosen[key] for key, _label in DIMENSIONS},
                alpha=chosen["alpha"],
            )
        except ProfileError as error:
            problems = [(str(_("Weights")), str(_("Give at least one SDG a weight above 0.")))]
            del error
    try:
        ranking = profile_ranking(profile) if profile is not None else None
    except RankingUnavailable:  # a method release's republications wait for their figures
        ranking, pending = None, True
    else:
        pending = False
    page = rows = None
    if ranking is not None:
        page = Paginator(ranking, PAGE_SIZE).get_page(request.GET.get("page"))
        ranked = list(page.object_list)
        projects = ranking_rows_by_id([item.project_id for item in ranked])
        rows = [
            CustomRow(item, projects[item.project_id], round_half_up(item.net, 1))
            for item in ranked
            if item.project_id in projects
        ]
    params = request.GET.copy()
    params.pop("page", None)
    context = page_context(
        request,
        title=_("Your own weights"),
        description=_(
            "Rank space-resource projects under your own weights for SDG 7, 9 and 12 and the risk penalty."
        ),
        sliders=[
            {"name": key, "label": label, "value": _shown(chosen.get(key)), "max": MAX_WEIGHT, "step": 1}
            for key, label in DIMENSIONS
        ],
        alpha={"value": _shown(chosen.get("alpha")), "step": str(ALPHA_STEP)},
        official=defaults,
        is_official=profile is not None and all(chosen.get(k) == v for k, v in defaults.items()),
        problems=problems,
        rows=rows,
        page=page,
        page_query=params.urlencode(),
        methodology=methodology,
        pending=pending,
    )
    status = 400 if problems else 503 if pending else 200
    return render(request, "web/custom_ranking.html", context, status=status)


def _shown(value) -> str:
    """A slider's value as the form writes it ("2", "0.35")."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text
