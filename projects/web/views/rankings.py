"""Home: what sdgscore is, and the rankings table with sort and filter links."""

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from projects.selectors import methodology_current, public_summary, ranking_table_projects

from ..caching import public_page
from ..context import page_context
from ..filters import RankingFilter, rejected_values, valid_only
from ..method_texts import MethodTexts
from ..rankings import column_headers, current_sort, facets, ranking_rows

PAGE_SIZE = 50


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
    paginator.count = public_summary(filterset.qs, count=Count("pk"))["count"]  # kept per generation
    page = paginator.get_page(request.GET.get("page"))
    rows = ranking_rows(page.object_list, MethodTexts(methodology) if methodology else None)
    sort = current_sort(params)
    context = page_context(
        request,
        title=_("Rankings"),
        rows=rows,
        page=page,
        page_query=params.urlencode(),
        facets=facets(params),
        headers=column_headers(params, sort),
        filtered=any(params.getlist(name) for name in ("body", "phase", "grade", "debris", "equity")),
        rejected=rejected,
        methodology=methodology,
        any_illustrative=any(row.project.is_illustrative for row in rows),
    )
    return render(request, "web/home.html", context, status=400 if rejected else 200)
