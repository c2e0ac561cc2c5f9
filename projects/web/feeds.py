"""Atom feeds of what is published (issue 17): the whole site, one project, one operator, one
method version. Each entry is a publication (its change line, its note, when, a link), a
withdrawal, or a method release; in the page's language. Django's syndication framework writes
them; ``public_page`` gives them the same validators and cache as every public page.

Only what the public may see: publications of projects published now, and the withdrawal
entries of those withdrawn (their earlier publications leave the feeds with them). A method
release's automatic republications are one release entry in the site, operator and method
feeds, and each project's own feed lists its own.
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from projects.changes import change_line
from projects.models import Methodology, Operator, Project, Publication
from projects.selectors import published_methodologies
from projects.vocabularies import PublicationState

from .caching import public_page

ENTRIES = 50
SITE = "sdgscore"


def _visible(publications):
    """Publications the public may see: of projects published now, and withdrawals."""
    return publications.filter(
        Q(project__state=PublicationState.PUBLISHED) | Q(kind=Publication.Kind.WITHDRAWAL)
    ).select_related("project")


class Entry:
    """One feed entry: a publication or a method release, with what the feed writes of it."""

    def __init__(self, *, key, title, description, link, moment):
        self.key, self.title, self.description, self.link, self.moment = key, title, description, link, moment


def publication_entry(publication: Publication) -> Entry:
    project = publication.project
    line = change_line(publication.changes)
    if publication.kind == Publication.Kind.WITHDRAWAL:
        title = _("%(name)s withdrawn from publication") % {"name": project.name}
    else:
        title = f"{project.name}: {line}"
    return Entry(
        key=f"publication/{publication.pk}",
        title=title,
        description=f"{line}\n\n{publication.note}",
        # A withdrawn project has no page: its withdrawal links to the rankings.
        link=reverse("web:home")
        if publication.kind == Publication.Kind.WITHDRAWAL
        else reverse("web:project", args=[project.slug]) + f"#publication-{publication.number}",
        moment=publication.published_at,
    )


def release_entry(methodology: Methodology) -> Entry:
    return Entry(
        key=f"methodology/{methodology.version}",
        title=_("Method %(version)s released: every project is scored under it")
        % {"version": methodology.version},
        description=_(
            "Method %(version)s is now the method scores are computed under. Every published project "
            "was scored again under it and published automatically; each project's own feed lists its "
            "change."
        )
        % {"version": methodology.version},
        link=reverse("web:methodology_version", args=[methodology.version]),
        moment=methodology.published_at,
    )


def _entries(publications, *, republications: bool = False) -> list[Entry]:
    """The newest of ``publications`` the public may see, as entries (a release's automatic
    republications only where asked: a project's own feed)."""
    if not republications:
        publications = publications.exclude(kind=Publication.Kind.REPUBLICATION)
    return [publication_entry(p) for p in _visible(publications).order_by("-published_at", "-pk")[:ENTRIES]]


def _releases() -> list[Entry]:
    return [release_entry(methodology) for methodology in published_methodologies()[:ENTRIES]]


def newest(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda entry: (entry.moment, entry.key), reverse=True)[:ENTRIES]


class PublicationFeed(Feed):
    """What every feed shares: Atom, its entries as ``Entry``, ids as tag URIs of the host."""

    feed_type = Atom1Feed
    author_name = SITE

    def __call__(self, request, *args, **kwargs):
        self.host = request.get_host().split(":")[0]
        return super().__call__(request, *args, **kwargs)

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_description(self, item: Entry) -> str:
        return item.description

    def item_link(self, item: Entry) -> str:
        return item.link

    def item_pubdate(self, item: Entry):
        return item.moment

    def item_updateddate(self, item: Entry):
        return item.moment

    def item_guid(self, item: Entry) -> str:
        return f"tag:{self.host},2026:{item.key}"

    item_guid_is_permalink = False

    def feed_guid(self, obj) -> str:
        return f"tag:{self.host},2026:feed{self.link(obj)}"

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        feed.feed["id"] = self.feed_guid(obj)
        return feed


class SiteFeed(PublicationFeed):
    def title(self) -> str:
        return _("sdgscore: every publication")

    def subtitle(self) -> str:
        return _("Scores of space-resource projects as they are published, withdrawn and rescored.")

    def link(self, obj=None) -> str:
        return reverse("web:home")

    def items(self) -> list[Entry]:
        return newest(_entries(Publication.objects.all()) + _releases())


class ProjectFeed(PublicationFeed):
    def get_object(self, request, slug):
        project = Project.objects.published().filter(slug=slug).first()
        if project is None:
            raise Http404
        return project

    def title(self, project: Project) -> str:
        return _("sdgscore: %(name)s") % {"name": project.name}

    def subtitle(self, project: Project) -> str:
        return _("Each publication of the project's score, with what moved and why.")

    def link(self, project: Project) -> str:
        return reverse("web:project", args=[project.slug])

    def items(self, project: Project) -> list[Entry]:
        return newest(_entries(project.publications.all(), republications=True))


class OperatorFeed(PublicationFeed):
    def get_object(self, request, slug):
        operator = Operator.objects.filter(slug=slug, projects__state=PublicationState.PUBLISHED).first()
        if operator is None:
            raise Http404
        return operator

    def title(self, operator: Operator) -> str:
        return _("sdgscore: projects of %(name)s") % {"name": operator.name}

    def subtitle(self, operator: Operator) -> str:
        return _("Publications of the operator's projects as they happen.")

    def link(self, operator: Operator) -> str:
        return reverse("web:operators") + f"#operator-{operator.slug}"

    def items(self, operator: Operator) -> list[Entry]:
        return newest(_entries(Publication.objects.filter(project__operator=operator)) + _releases())


class MethodFeed(PublicationFeed):
    def get_object(self, request, version):
        methodology = published_methodologies().filter(version=version).first()
        if methodology is None:
            raise Http404
        return methodology

    def title(self, methodology: Methodology) -> str:
        return _("sdgscore: publications under method %(version)s") % {"version": methodology.version}

    def subtitle(self, methodology: Methodology) -> str:
        return _("The method's release, and every publication scored under it.")

    def link(self, methodology: Methodology) -> str:
        return reverse("web:methodology_version", args=[methodology.version])

    def items(self, methodology: Methodology) -> list[Entry]:
        return newest(
            _entries(Publication.objects.filter(methodology=methodology)) + [release_entry(methodology)]
        )


site_feed = public_page(SiteFeed())
project_feed = public_page(ProjectFeed())
operator_feed = public_page(OperatorFeed())
method_feed = public_page(MethodFeed())


def feed_links(*, project: Project | None = None, methodology: Methodology | None = None) -> list[dict]:
    """The feeds a page names in its head (``<link rel="alternate" type="application/atom+xml">``):
    its own, if it has one, then the whole site's."""
    links = []
    if project is not None:
        links.append(
            {
                "title": _("%(name)s: publications") % {"name": project.name},
                "url": reverse("web:project_feed", args=[project.slug]),
            }
        )
    if methodology is not None:
        links.append(
            {
                "title": _("Publications under method %(version)s") % {"version": methodology.version},
                "url": reverse("web:method_feed", args=[methodology.version]),
            }
        )
    links.append({"title": _("sdgscore: every publication"), "url": reverse("web:feed")})
    return links
