"""Roles (analyst, reviewer, administrator), four-eyes publication, and the audit trail."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group

from projects import actors
from projects.interchange.importer import projects_import
from projects.models import ApiKey, Assessment, Project
from projects.services.ratings import assessment_save
from tests.admin.pages import preview_digests
from tests.conftest import interchange, project_record, rated
from tests.support.actors import key_owner, member

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/projects/project/"


@pytest.fixture
def draft():
    projects_import(interchange(project_record("alpha", assessments=[rated("S7.1", 2)])))
    return Project.objects.get(slug="alpha")


def test_the_three_roles_exist_with_their_permissions():
    analyst, reviewer, administrator = (
        Group.objects.get(name=n) for n in ("analyst", "reviewer", "administrator")
    )
    analyst_perms = set(analyst.permissions.values_list("codename", flat=True))
    assert {"change_project", "change_assessment", "add_operator", "view_methodology"} <= analyst_perms
    assert "publish_project" not in analyst_perms and "change_methodology" not in analyst_perms
    assert "publish_project" in set(reviewer.permissions.values_list("codename", flat=True))
    assert {"change_methodology", "add_apikey", "change_user"} <= set(
        administrator.permissions.values_list("codename", flat=True)
    )


def publish(client, project, note="Reviewed the analyst's changes."):
    """The two steps of the publish action: the preview page, then the post with a note."""
    data = {"action": "publish", "_selected_action": [project.pk]}
    preview = client.post(CHANGELIST, data)
    return preview, client.post(CHANGELIST, {**data, "note": note, **preview_digests(preview)}, follow=True)


def test_an_analyst_cannot_publish(client, draft):
    client.force_login(member("ana", "analyst"))
    assert b'value="publish"' not in client.get(CHANGELIST).content
    publish(client, draft)
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert not draft.publications.exists()


def test_a_reviewer_publishes_what_an_analyst_changed(client, draft):
    analyst, reviewer = member("ana", "analyst"), member("rev", "reviewer")
    client.force_login(analyst)
    assessment = Assessment.objects.get(project=draft, criterion__code="S7.1")
    # an analyst's change through the admin is recorded with its author
    with actors.acting(analyst, actors.Channel.SHELL):
        assessment.level = 3
        assessment_save(assessment)
    client.force_login(reviewer)
    preview, response = publish(client, draft, note="S7.1 re-rated after the operator's report.")
    assert preview.status_code == 200 and b'name="note"' in preview.content
    assert b"1 project published." in response.content
    draft.refresh_from_db()
    assert draft.state == "published"
    assert draft.publication.published_by == reviewer
    assert draft.publication.note == "S7.1 re-rated after the operator's report."


def test_a_reviewer_cannot_publish_their_own_changes(client, draft):
    reviewer = member("rev", "reviewer")
    with actors.acting(reviewer, actors.Channel.SHELL):
        assessment = Assessment.objects.get(project=draft, criterion__code="S7.1")
        assessment.level = 4
        assessment_save(assessment)
    client.force_login(reviewer)
    preview, response = publish(client, draft)
    # the preview warns, and publishing anyway is refused
    assert b"you changed it since its last review; another reviewer must do it." in preview.content
    assert b"you changed it since its last review; another reviewer must do it." in response.content
    assert b"0 projects published." in response.content
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert not draft.publications.exists()


def test_every_change_is_recorded_field_by_field_with_who_and_when(admin_client, admin_user, draft):
    assessment = Assessment.objects.get(project=draft, criterion__code="S7.1")
    with actors.acting(admin_user, actors.Channel.SHELL):
        assessment.level = 1
        assessment.justification = "Re-assessed after the operator's report."
        assessment_save(assessment)
    entry = LogEntry.objects.get_for_object(assessment).first()
    assert entry.actor == admin_user and entry.timestamp is not None
    assert entry.changes_dict["level"] == ["2", "1"]
    assert entry.changes_dict["justification"][1] == "Re-assessed after the operator's report."
    page = admin_client.get(f"/admin/projects/project/{draft.pk}/auditlog/")
    assert page.status_code == 200
    assert b"Audit log" in page.content


def test_an_api_key_hash_never_enters_the_audit_log():
    api_key, key = ApiKey.issue(owner=key_owner(), name="Desk", scope="write")
    entry = LogEntry.objects.get_for_object(api_key).get()
    assert "key_hash" not in entry.changes_dict
    assert api_key.key_hash not in str(entry.changes_dict)
