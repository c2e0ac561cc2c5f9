"""Atom feeds of publications (issue 17): the whole site, a project, an operator, a method
version; each entry a publication's change line and note, a withdrawal or a method release;
valid Atom (RFC 4287) in both languages; only what the public may see; conditional GET."""

from datetime import datetime
from xml.etree import ElementTree

import pytest

from projects.models import Project, Publication
from tests.support.actors import withdraw_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def projects(db):
    make_project("alpha", name="Alpha", assessments=all_rated(3, grade="A"), note="First look at Alpha.")
    make_project("beta", name="Beta", assessments=all_rated(1), note="Beta rated.")
    make_project("draft", name="Secret draft", assessments=all_rated(4), publish=False)
    gone = make_project("gone", name="Gone", assessments=all_rated(2), note="Gone, first.")
    withdraw_as_reviewer(project=gone, note="Withdrawn: the mission was cancelled.")
    # Alpha again, one rating changed: its change line names it.
    make_project("alpha", name="Alpha", assessments=all_rated(3, grade="A", S9_1=4), note="Alpha revised.")


def feed_urls(lang: str) -> list[str]:
    operator = Project.objects.get(slug="alpha").operator.slug
    return [
        f"/{lang}/feeds/publications.atom",
        f"/{lang}/projects/alpha/feed.atom",
        f"/{lang}/operators/{operator}/feed.atom",
        f"/{lang}/methodology/1.0/feed.atom",
    ]


def valid_atom(response, lang: str) -> ElementTree.Element:
    """The body is an Atom feed as RFC 4287 requires: the elements a feed and each entry must
    have, once each, ids unique, dates in RFC 3339, in the page's language."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(response.content)  # noqa: S314 (the service's own answer)
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert feed.find(f"{ATOM}author/{ATOM}name").text  # so no entry needs its own
    assert [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    ids = [feed.find(f"{ATOM}id").text]
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
        ids.append(entry.find(f"{ATOM}id").text)
    assert all(i.startswith("tag:") for i in ids) and len(set(ids)) == len(ids)
    return feed


def entries(feed) -> list[tuple[str, str]]:
    return [
        (e.find(f"{ATOM}title").text, e.find(f"{ATOM}summary").text or "")
        for e in feed.findall(f"{ATOM}entry")
    ]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_feed_is_valid_atom_in_both_languages(client, projects, lang):
    for url in feed_urls(lang):
        feed = valid_atom(client.get(url), lang)
        assert feed.findall(f"{ATOM}entry"), url


def test_entries_carry_the_change_line_the_note_and_a_link(client, projects):
    feed = valid_atom(client.get("/en/feeds/publications.atom"), "en")
    found = entries(feed)
    titles = [title for title, _ in found]
    revised = next(summary for title, summary in found if title.startswith("Alpha: S9.1"))
    assert "S9.1 3 → 4" in revised and "Alpha revised." in revised
    assert "Gone withdrawn from publication" in titles and "Withdrawn: the mission was cancelled." in "".join(
        summary for _, summary in found
    )
    assert any(title.startswith("Method 1.0 released") for title in titles)
    # Newest first; the draft and the withdrawn project's earlier publication are not there.
    assert not any("Secret draft" in title or title.startswith("Gone:") for title in titles)
    updated = [e.find(f"{ATOM}updated").text for e in feed.findall(f"{ATOM}entry")]
    assert updated == sorted(updated, reverse=True)
    link = feed.find(f"{ATOM}entry/{ATOM}link").get("href")
    number = Project.objects.get(slug="alpha").publication.number
    assert link.endswith(f"/en/projects/alpha/#publication-{number}")
    assert client.get(link.split("#")[0].removeprefix("http://testserver")).status_code == 200


def test_the_japanese_feed_speaks_japanese(client, projects):
    feed = valid_atom(client.get("/ja/projects/alpha/feed.atom"), "ja")
    assert any("評点" in title for title, _ in entries(feed))


def test_drafts_and_withdrawn_projects_have_no_feed(client, projects):
    assert client.get("/en/projects/draft/feed.atom").status_code == 404
    assert client.get("/en/projects/gone/feed.atom").status_code == 404
    assert client.get("/en/projects/nowhere/feed.atom").status_code == 404
    assert client.get("/en/methodology/9.9/feed.atom").status_code == 404
    for url in feed_urls("en"):
        assert b"Secret draft" not in client.get(url).content


def test_automatic_republications_stay_in_the_projects_own_feed(client, projects):
    republished = Project.objects.get(slug="beta").publication
    Publication.objects.filter(pk=republished.pk).update(kind=Publication.Kind.REPUBLICATION)
    from projects.freshness import site_changed

    site_changed()
    site = entries(valid_atom(client.get("/en/feeds/publications.atom"), "en"))
    own = entries(valid_atom(client.get("/en/projects/beta/feed.atom"), "en"))
    assert not any(title.startswith("Beta:") for title, _ in site)
    assert any(title.startswith("Beta:") for title, _ in own)


def test_conditional_get_and_a_new_publication(client, projects):
    first = client.get("/en/feeds/publications.atom")
    assert first["ETag"] and first["Last-Modified"]
    assert client.get("/en/feeds/publications.atom", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    make_project("gamma", name="Gamma", assessments=all_rated(2), note="Gamma arrives.")
    again = client.get("/en/feeds/publications.atom", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    assert entries(valid_atom(again, "en"))[0][0].startswith("Gamma:")


def test_pages_name_their_feeds(client, projects):
    operator = Project.objects.get(slug="alpha").operator.slug
    expected = {
        "/en/": ["/en/feeds/publications.atom"],
        "/en/projects/alpha/": ["/en/projects/alpha/feed.atom", "/en/feeds/publications.atom"],
        "/en/methodology/": ["/en/methodology/1.0/feed.atom", "/en/feeds/publications.atom"],
        "/ja/operators/": ["/ja/feeds/publications.atom"],
    }
    for url, feeds in expected.items():
        links = [
            link.attrs["href"]
            for link in page(client.get(url)).find_all("link")
            if link.attrs.get("type") == "application/atom+xml" and link.attrs.get("rel") == "alternate"
        ]
        assert links == feeds, url
        for href in links:
            assert client.get(href).status_code == 200
    operators = page(client.get("/en/operators/"))
    assert f"/en/operators/{operator}/feed.atom" in [a.attrs.get("href") for a in operators.find_all("a")]
