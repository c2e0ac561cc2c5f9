"""Home: what sdgscore is, and the rankings table with sort and filter links."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from projects.freshness import site_generation
from projects.models import Project
from projects.selectors import methodology_current, public_summary, ranking_table_projects

from ..caching import public_page
from ..context import page_context
from ..feeds import feed_links
from ..filters import RankingFilter, rejected_values, valid_only
from ..method_texts import MethodTexts
from ..overview import overview
from ..rankings import FACET_CHOICES, column_headers, current_sort, facets, ranking_rows

PAGE_SIZE = 50


FACET_FIELDS = {name: RankingFilter.base_filters[name].field_name for name in FACET_CHOICES}


def facet_counts(generation: int) -> dict[str, int]:
    """How many published projects have each value of each filter: one query, kept per site
    generation like the other counts."""
    aggregates = {
        f"{name}_{index}": Count("pk", filter=Q(**{field: value}))
        for name, field in FACET_FIELDS.items()
        for index, (value, _label) in enumerate(FACET_CHOICES[name][1])
    }
    found = public_summary(Project.objects.published(), generation=generation, **aggregates)
    return {
        f"{name}:{value}": found[f"{name}_{index}"]
        for name in FACET_FIELDS
        for index, (value, _label) in enumerate(FACET_CHOICES[name][1])
    }


@public_page
def home(request):
    filterset = RankingFilter(request.GET or None, queryset=ranking_table_projects())
    rejected = []
    if filterset.is_bound and not filterset.is_valid():
        rejected = rejected_values(filterset)
        filterset = RankingFilter(valid_only(filterset), queryset=ranking_table_projects())
    params = filterset.data.copy() if filterset.is_bound else request.GET.copy()
    params.pop("page", None)  # facet and sort links start again at the first page
    methodology = methodology_current()
    # A page of the ranking at a time: the site stays fast at 100,000 projects. A page number
    # out of range shows the last page; one that is not a number, the first.
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    projects = filterset.qs
    generation = site_generation(using=projects.db).number
    paginator.count = public_summary(projects, generation=generation, count=Count("pk"))["count"]
    page = paginator.get_page(request.GET.get("page"))
    rows = ranking_rows(page.object_list, MethodTexts(methodology) if methodology else None)
    sort = current_sort(params)
    context = page_context(
        request,
        title=_("Rankings"),
        feeds=feed_links(),
        rows=rows,
        page=page,
        page_query=params.urlencode(),
        facets=facets(params, facet_counts(generation)),
        headers=column_headers(params, sort),
        filtered=any(params.getlist(name) for name in ("body", "phase", "grade", "debris", "equity")),
        rejected=rejected,
        methodology=methodology,
        any_illustrative=any(row.project.is_illustrative for row in rows),
        # The overview pictures the start of the list: on its first page only.
        overview=overview(rows, link=reverse("web:project", args=["-"])[:-2], total=paginator.count)
        if page.number == 1
        else None,
    )
    return render(request, "web/home.html", context, status=400 if rejected else 200)
