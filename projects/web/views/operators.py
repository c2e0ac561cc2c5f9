"""Operators: each agency or company with its published projects."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from projects.selectors import operators_with_projects

from ..caching import public_page
from ..context import page_context
from ..feeds import feed_links


@public_page
def operators(request):
    context = page_context(
        request,
        title=_("Operators"),
        feeds=feed_links(),
        description=_("The agencies, companies, consortia and universities behind the rated projects."),
        operators=operators_with_projects(),
    )
    return render(request, "web/operators.html", context)
