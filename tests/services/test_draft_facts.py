"""Everything the public sees is published: a published project's facts (name, summaries, links,
phase, origin, operator, slug…) change in public only with a publication, whichever door the
change came in by; a renamed project's old addresses redirect for good."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from rest_framework.test import APIClient

from projects import actors
from projects.interchange.importer import backup_restore, projects_import
from projects.models import ApiKey, Operator, Project, Publication, ScoreCard
from projects.services.publication import draft_changes, draft_digest
from tests.conftest import interchange, project_record, rated
from tests.support.actors import key_owner, publish_as_reviewer, reviewer_user, staff_user

pytestmark = pytest.mark.django_db

FULL = [rated(code, 2) for code in ("S7.1", "S7.2", "S9.1")]


def published(slug="alpha", **fields) -> Project:
    projects_import(
        interchange(project_record(slug, assessments=FULL, **fields)),
        publish=True,
        reviewer=reviewer_user(),
        note="First.",
    )
    return Project.objects.get(slug=slug)


def writer() -> APIClient:
    _, key = ApiKey.issue(owner=key_owner(), name="writer", scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def patch(client, slug, body):
    etag = client.get(f"/api/v1/projects/{slug}")["ETag"]
    return client.patch(f"/api/v1/projects/{slug}", body, format="json", HTTP_IF_MATCH=etag)


def test_a_write_keys_change_of_facts_waits_for_a_publication(client):
    """Finding 5: name, summary, links, phase and origin changed the public pages at once."""
    project = published(name="Alpha Ice", origin="demo")
    response = patch(
        writer(),
        "alpha",
        {
            "name": "Alpha Ice II",
            "summary": "Rewritten.",
            "origin": "assessed",
            "links": ["https://example.org/a"],
        },
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["name"] == "Alpha Ice II"  # the writer sees the draft

    public = client.get("/api/v1/projects/alpha").json()
    assert (public["name"], public["summary"], public["origin"], public["illustrative"]) == (
        "Alpha Ice",
        "A test project.",
        "demo",
        True,
    )
    page = client.get("/en/projects/alpha/").content.decode()
    assert "Alpha Ice II" not in page and "Rewritten." not in page
    assert {item["field"] for item in draft_changes(project)["facts"]} == {
        "name",
        "summary",
        "origin",
        "links",
    }

    publication = publish_as_reviewer(project=project, note="Renamed after the operator's announcement.")
    assert [item["field"] for item in publication.changes["facts"]] == ["links", "name", "origin", "summary"]
    public = client.get("/api/v1/projects/alpha").json()
    assert (public["name"], public["origin"], public["links"]) == (
        "Alpha Ice II",
        "assessed",
        ["https://example.org/a"],
    )
    assert Project.objects.get(slug="alpha").pending_facts == {}


def test_changing_a_fact_back_leaves_nothing_to_publish():
    project = published(name="Alpha Ice")
    project.apply_pending()
    project.name = "Alpha Ice II"
    project.save()
    assert Project.objects.get(pk=project.pk).pending_facts == {"name": "Alpha Ice II"}
    project.name = "Alpha Ice"
    project.save()
    stored = Project.objects.get(pk=project.pk)
    assert stored.pending_facts == {} and draft_changes(stored) is None


def test_a_never_published_project_is_edited_in_place():
    projects_import(interchange(project_record("draft-only", assessments=FULL)))
    project = Project.objects.get(slug="draft-only")
    project.name = "Still a draft"
    project.save()
    stored = Project.objects.get(pk=project.pk)
    assert stored.name == "Still a draft" and stored.pending_facts == {}


def test_the_preview_digest_covers_the_facts():
    project = published()
    before = draft_digest(project)
    project.apply_pending()
    project.summary_ja = "日本語の要約。"
    project.save()
    assert draft_digest(project) != before


def test_a_renamed_project_keeps_its_address_until_published_then_redirects_for_good(client):
    """Finding 5: a rename made the public URL and the API URL 404 at once."""
    project = published()
    with actors.acting(staff_user("renamer"), actors.Channel.ADMIN):
        project.apply_pending()
        project.slug = "alpha-prime"
        project.save()
    assert client.get("/en/projects/alpha/").status_code == 200
    assert client.get("/api/v1/projects/alpha").status_code == 200
    assert client.get("/api/v1/projects/alpha-prime").status_code == 404

    publish_as_reviewer(project=project, note="The mission was renamed.")
    assert client.get("/api/v1/projects/alpha-prime").status_code == 200
    page = client.get("/en/projects/alpha/?ref=x")
    assert (page.status_code, page["Location"]) == (301, "/en/projects/alpha-prime/?ref=x")
    api = client.get("/api/v1/projects/alpha/scores")
    assert (api.status_code, api["Location"]) == (308, "/api/v1/projects/alpha-prime/scores")
    badge = client.get("/ja/projects/alpha/badge.svg")
    assert (badge.status_code, badge["Location"]) == (301, "/ja/projects/alpha-prime/badge.svg")


def test_a_slug_names_one_project_for_good():
    published("alpha")
    beta = published("beta")
    beta.apply_pending()
    beta.slug = "alpha"
    with pytest.raises(ValidationError, match="names another project"):
        beta.save()
    beta.slug = "beta-two"
    beta.save()
    gamma = Project(
        slug="beta-two", name="Gamma", operator=Operator.objects.first(), target_body="moon", phase="concept"
    )
    with pytest.raises(ValidationError, match="names another project"):
        gamma.save()


def test_a_backup_keeps_published_and_pending_facts_apart(tmp_path):
    project = published(name="Alpha Ice")
    project.apply_pending()
    project.name = "Alpha Ice II"
    project.save()
    path = tmp_path / "backup.json"
    call_command("export_projects", "-o", str(path), "--with-history", stderr=io.StringIO())
    data = json.loads(path.read_text())
    Project.objects.update(current_score=None, published_score=None, publication=None)
    Publication.objects.all().delete()
    ScoreCard.objects.all().delete()
    Project.objects.all().delete()
    boss = staff_user("restorer")
    boss.is_superuser = True
    boss.save()
    backup_restore(data, user=boss)
    restored = Project.objects.get(slug="alpha")
    assert (restored.name, restored.pending_facts) == ("Alpha Ice", {"name": "Alpha Ice II"})


def test_an_admin_edit_of_a_fact_waits_and_the_reviewer_sees_it_in_the_preview(client):
    from django.contrib.auth.models import Group

    from tests.admin.pages import ProjectPage, parse

    project = published()
    analyst = staff_user("admin-analyst")
    analyst.groups.add(Group.objects.get(name="analyst"))
    client.force_login(analyst)
    url = f"/admin/projects/project/{project.pk}/change/"
    page = ProjectPage.of(client.get(url))
    page.data["summary"] = ["Now drilling at the south pole."]
    assert client.post(url, page.post_data()).status_code == 302
    assert ProjectPage.of(client.get(url)).data["summary"] == ["Now drilling at the south pole."]  # the draft
    assert client.get("/api/v1/projects/alpha").json()["summary"] == "A test project."  # the public

    reviewer = staff_user("admin-reviewer")
    reviewer.groups.add(Group.objects.get(name="reviewer"))
    client.force_login(reviewer)
    preview = parse(client.get(f"/admin/projects/project/{project.pk}/publish/").content)
    facts = preview.find("table", class_="review-diff-facts")  # projects/admin/review_diff.py
    rows = {
        row.find("th").clean_text: [cell.clean_text for cell in row.find_all("td")]
        for row in facts.find("tbody").find_all("tr")
    }
    old, new, author = rows["Summary (English)"]
    assert (old, new) == ("removed: A test project.", "added: Now drilling at the south pole.")
    assert author.startswith("admin-analyst via admin")
