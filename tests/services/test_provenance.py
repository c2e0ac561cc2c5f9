"""Provenance: every change has an actor and a channel, and four eyes are read from it.

Whatever the door — admin, API key, import, method release, shell — a change is logged with who
made it; nobody publishes or withdraws a project they changed since its last review
(administrators included, and a method release does not reset it); what is published is what
was previewed; a withdrawal is a publication of its own, seen by incremental syncs."""

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from projects import actors
from projects.interchange.importer import InterchangeError, projects_import
from projects.models import ApiKey, Change, Methodology, Operator, Project, Publication
from projects.services.methodology import MethodRefused, methodology_publish
from projects.services.publication import (
    PreviewOutdated,
    PublicationRefused,
    draft_digest,
    operator_publish,
    project_publish,
    project_withdraw,
)
from projects.services.ratings import assessment_remove, assessment_save
from tests.admin.pages import SheetPage, sheet_url
from tests.conftest import interchange, project_record, rated
from tests.support.actors import key_owner, publish_as_reviewer, reviewer_user, staff_user

pytestmark = pytest.mark.django_db

FULL = [rated(code, 2) for code in ("S7.1", "S7.2", "S9.1")]


def reviewer(name: str):
    user = staff_user(name)
    user.groups.add(Group.objects.get(name="reviewer"))
    return user


def superuser(name: str):
    user = staff_user(name)
    user.is_superuser = True
    user.save()
    return user


def published(slug="alpha") -> Project:
    projects_import(
        interchange(project_record(slug, assessments=FULL)),
        publish=True,
        reviewer=reviewer_user(),
        note="First.",
    )
    return Project.objects.get(slug=slug)


def api_client(owner, scope="write") -> APIClient:
    _, key = ApiKey.issue(owner=owner, name=f"{owner.username}'s key", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def rate_through_the_api(client, slug: str, code: str, level: int):
    url = f"/api/v1/projects/{slug}/assessments/{code}"
    etag = client.get(url)["ETag"]
    body = {
        "rating": level,
        "evidence": "Re-assessed from the operator's report.",
        "evidence_grade": "B",
        "source_url": "https://example.org/evidence",
    }
    return client.put(url, body, format="json", HTTP_IF_MATCH=etag)


# --- every change has an actor ----------------------------------------------------------------


def test_without_an_actor_nothing_is_changed_and_the_error_says_how():
    project = published()
    assessment = project.assessments.get(criterion__code="S7.1")
    with actors.nobody():
        project.name = "Renamed by nobody"
        with pytest.raises(actors.NoActor, match="acting\\(user, 'shell'\\)"):
            project.save()
        assessment.level = 4
        with pytest.raises(actors.NoActor):
            assessment_save(assessment)
        with pytest.raises(actors.NoActor):
            assessment_remove(assessment)
        with pytest.raises(actors.NoActor):
            Operator(name="Nobody's agency", country="JP", kind="agency").save()
    project.refresh_from_db()
    assessment.refresh_from_db()
    assert project.name != "Renamed by nobody" and assessment.level == 2
    assert not Operator.objects.filter(name="Nobody's agency").exists()


def test_each_change_is_logged_with_actor_channel_and_old_and_new_value():
    project = published()
    analyst = staff_user("sato")
    with actors.acting(analyst, actors.Channel.SHELL):
        assessment = project.assessments.get(criterion__code="S9.1")
        assessment.level = 3
        assessment_save(assessment)
        project.summary = "Now with a drill."
        project.save()
    rating, fact = Change.objects.filter(project=project, actor=analyst).order_by("id")
    assert (rating.kind, rating.subject, rating.channel, rating.actor_name) == (
        "rating",
        "S9.1",
        "shell",
        "sato",
    )
    assert (rating.old["level"], rating.new["level"]) == (2, 3)
    assert (fact.kind, fact.subject, fact.old, fact.new) == (
        "fact",
        "summary",
        "A test project.",
        "Now with a drill.",
    )
    assessment.refresh_from_db()
    assert assessment.assessed_by == analyst  # the assessor is the actor, whatever the caller passed


def test_an_api_write_is_the_key_owners_change_through_the_api():
    published()
    owner = staff_user("data-desk")
    client = api_client(owner)
    assert rate_through_the_api(client, "alpha", "S7.1", 3).status_code == 200
    change = Change.objects.get(kind="rating", subject="S7.1", channel="api")
    assert change.actor == owner and change.api_key.owner == owner


def test_a_key_without_an_owner_cannot_be_issued_and_an_ownerless_key_cannot_write():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="owner"):
        ApiKey.issue(owner=None, name="Nobody's", scope="write")
    published()
    owner = staff_user("leaver")
    client = api_client(owner)
    owner.is_active = False
    owner.save()
    response = rate_through_the_api(client, "alpha", "S7.1", 3)
    assert response.status_code == 403 and "owner" in response.json()["detail"]
    owner.is_active, owner.is_staff = True, False  # no longer staff: the same
    owner.save()
    assert rate_through_the_api(client, "alpha", "S7.1", 3).status_code == 403
    assert Project.objects.get(slug="alpha").assessments.get(criterion__code="S7.1").level == 2


def test_the_import_command_needs_a_staff_user_and_attributes_the_changes(tmp_path):
    path = tmp_path / "file.json"
    path.write_text(json.dumps(interchange(project_record("beta", assessments=FULL))))
    with pytest.raises(CommandError, match="--user"):
        call_command("import_projects", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="--user: no user named 'ghost'"):
        call_command("import_projects", str(path), "--user", "ghost", stdout=io.StringIO())
    staff_user("suzuki")
    call_command("import_projects", str(path), "--user", "suzuki", stdout=io.StringIO())
    changes = Change.objects.filter(project__slug="beta")
    assert {(change.actor_name, change.channel) for change in changes} == {("suzuki", "import")}
    assert changes.filter(kind="created").count() == 1 and changes.filter(kind="rating").count() == 3


# --- four eyes from provenance ------------------------------------------------------------------


def test_a_reviewer_cannot_publish_what_he_imported_himself(tmp_path):
    """Finding 2: a reviewer published his own change made through import_projects --user."""
    published()
    me = reviewer("reviewer1")
    changed = [rated("S9.1", 4) if item["criterion"] == "S9.1" else item for item in FULL]
    projects_import(interchange(project_record("alpha", assessments=changed)), user=me)
    with actors.acting(me, actors.Channel.ADMIN), pytest.raises(PublicationRefused, match="another reviewer"):
        project_publish(project=Project.objects.get(slug="alpha"), note="Mine.")
    with pytest.raises(InterchangeError, match="another reviewer"):
        projects_import(
            interchange(project_record("alpha", assessments=FULL)),
            user=me,
            publish=True,
            reviewer=me,
            note="X",
        )


def test_a_reviewer_cannot_publish_what_he_wrote_with_his_own_write_key():
    published()
    me = reviewer("reviewer2")
    assert rate_through_the_api(api_client(me), "alpha", "S7.1", 4).status_code == 200
    with actors.acting(me, actors.Channel.ADMIN), pytest.raises(PublicationRefused, match="another reviewer"):
        project_publish(project=Project.objects.get(slug="alpha"), note="Mine.")
    with actors.acting(reviewer("reviewer3"), actors.Channel.ADMIN):
        assert project_publish(project=Project.objects.get(slug="alpha"), note="Checked.").number == 2


def test_an_administrator_who_cleared_a_rating_cannot_publish_it():
    """Finding 2: an administrator cleared a rating and published it himself."""
    project = published()
    boss = superuser("boss")
    with actors.acting(boss, actors.Channel.ADMIN):
        assessment_remove(project.assessments.get(criterion__code="S7.2"))
        with pytest.raises(PublicationRefused, match="another reviewer"):
            project_publish(project=project, note="Cleared.")
        with pytest.raises(PublicationRefused, match="another reviewer"):
            project_withdraw(project=project, note="Hiding my change.")
    assert Change.objects.filter(
        project=project, kind="rating", subject="S7.2", new__isnull=True, actor=boss
    ).exists()


def test_an_analyst_may_not_publish_at_all():
    project = published()
    analyst = staff_user("analyst-only")
    with (
        actors.acting(analyst, actors.Channel.ADMIN),
        pytest.raises(PublicationRefused, match="for reviewers"),
    ):
        project_withdraw(project=project, note="No.")


def test_a_method_release_does_not_reset_four_eyes():
    """Finding 2: releasing a new method version let a reviewer publish his own pending edit."""
    project = published()
    me = reviewer("reviewer4")
    with actors.acting(me, actors.Channel.ADMIN):
        assessment = project.assessments.get(criterion__code="S9.1")
        assessment.level = 4
        assessment_save(assessment)
    current = Methodology.objects.get(version="1.0")
    with actors.acting(staff_user("drafter"), actors.Channel.ADMIN):
        draft = Methodology.objects.create(version="1.1", parameters=current.parameters)
        for criterion in current.criteria.all():
            criterion.pk, criterion.methodology = None, draft
            criterion.save()
    releaser = superuser("releaser")
    with actors.acting(releaser, actors.Channel.ADMIN):
        methodology_publish(methodology=draft)
    call_command("rescore", stdout=io.StringIO(), stderr=io.StringIO())
    project.refresh_from_db()
    automatic = project.publication
    assert (automatic.kind, automatic.published_by, automatic.published_by_name) == (
        "republication",
        releaser,
        "releaser",
    )
    with actors.acting(me, actors.Channel.ADMIN), pytest.raises(PublicationRefused, match="another reviewer"):
        project_publish(project=project, note="Mine, under 1.1.")


def test_a_method_version_is_released_by_someone_other_than_its_drafter():
    current = Methodology.objects.get(version="1.0")
    drafter = superuser("drafter-admin")
    with actors.acting(drafter, actors.Channel.ADMIN):
        draft = Methodology.objects.create(version="1.2", parameters=current.parameters)
        for criterion in current.criteria.all():
            criterion.pk, criterion.methodology = None, draft
            criterion.save()
        with pytest.raises(MethodRefused, match="you drafted it"):
            methodology_publish(methodology=draft)
    assert draft.drafted_by == drafter
    draft.refresh_from_db()
    assert draft.state == "draft"


# --- publish what was previewed; withdrawals ----------------------------------------------------


def test_publishing_refuses_a_draft_that_changed_after_the_preview():
    """Finding 6: a reviewer published an analyst's change made after the preview he approved."""
    project = published()
    with actors.acting(staff_user("analyst-a"), actors.Channel.ADMIN):
        assessment = project.assessments.get(criterion__code="S7.1")
        assessment.level = 3
        assessment_save(assessment)
    previewed = draft_digest(project)
    with actors.acting(staff_user("analyst-b"), actors.Channel.API):
        assessment.justification = "A late change nobody reviewed."
        assessment_save(assessment)
    with actors.acting(reviewer("reviewer5"), actors.Channel.ADMIN):
        with pytest.raises(PreviewOutdated, match="changed after your preview"):
            project_publish(project=project, note="Approved the preview.", digest=previewed)
        assert project.publications.count() == 1
        publication = project_publish(
            project=project, note="Approved the new preview.", digest=draft_digest(project)
        )
    assert publication.frozen_ratings[0]["evidence"] == "A late change nobody reviewed."


def test_a_withdrawal_is_a_publication_with_a_note_a_reviewer_and_an_audit_entry():
    """Finding 7: withdrawal had no confirmation, no note, no reviewer and no audit entry."""
    project = published()
    checker = reviewer("reviewer6")
    with actors.acting(checker, actors.Channel.ADMIN):
        with pytest.raises(PublicationRefused, match="note"):
            project_withdraw(project=project, note="  ")
        withdrawal = project_withdraw(project=project, note="The operator disputes the figures.")
    project.refresh_from_db()
    assert project.state == "draft" and project.publication == withdrawal
    assert (withdrawal.kind, withdrawal.number, withdrawal.published_by) == ("withdrawal", 2, checker)
    entry = Change.objects.get(project=project, kind="withdrawal")
    assert (entry.actor, entry.new["note"]) == (checker, "The operator disputes the figures.")
    # Reinstated by another publication, which says what it shows again.
    reinstated = publish_as_reviewer(project=project, note="Figures confirmed.")
    assert reinstated.number == 3 and Project.objects.get(pk=project.pk).state == "published"


def test_an_incremental_sync_sees_a_withdrawn_project_as_a_tombstone(client):
    project = published()
    with actors.acting(reviewer("reviewer7"), actors.Channel.ADMIN):
        project_withdraw(project=project, note="Withdrawn.")
    body = client.get("/api/v1/sync/projects").json()
    assert body["results"] == [
        {
            "slug": "alpha",
            "state": "withdrawn",
            "withdrawn": True,
            "updated_at": body["results"][0]["updated_at"],
        }
    ]
    assert client.get("/api/v1/projects/alpha").status_code == 404


# --- operators ----------------------------------------------------------------------------------


def test_a_write_key_cannot_rewrite_a_shared_operator():
    """Finding 3: a POST naming operator NASA with another country changed NASA everywhere."""
    published()  # operator "Test Operator", JP, company
    client = api_client(key_owner())
    record = project_record("gamma", operator={"name": "Test Operator", "country": "CN", "kind": "agency"})
    response = client.post("/api/v1/projects", record, format="json")
    assert response.status_code == 400
    assert "operator" in json.dumps(response.json()) and "a project's record does not change" in json.dumps(
        response.json()
    )
    operator = Operator.objects.get(name="Test Operator")
    assert (operator.country, operator.kind) == ("JP", "company")
    assert not Project.objects.filter(slug="gamma").exists()
    assert not Change.objects.filter(kind="operator", channel="api").exists()


def test_a_public_operators_edit_is_logged_and_waits_for_a_second_person(client):
    """Operator edits are audited and published like project facts."""
    project = published()
    before = project.updated_at
    operator = project.operator
    editor = superuser("editor")
    with actors.acting(editor, actors.Channel.ADMIN):
        operator.apply_pending()
        operator.country = "US"
        operator.save()
    entry = Change.objects.get(kind="operator", operator=operator, subject="country", channel="admin")
    assert (entry.old, entry.new, entry.actor) == ("JP", "US", editor)
    assert client.get("/api/v1/projects/alpha").json()["operator"]["country"] == "JP"  # not yet public
    with (
        actors.acting(editor, actors.Channel.ADMIN),
        pytest.raises(PublicationRefused, match="you changed it"),
    ):
        operator_publish(operator=operator, note="Mine.")
    with actors.acting(staff_user("analyst-x"), actors.Channel.ADMIN), pytest.raises(PublicationRefused):
        operator_publish(operator=operator, note="Not a reviewer.")
    with actors.acting(reviewer("reviewer9"), actors.Channel.ADMIN):
        assert operator_publish(operator=operator, note="Registered in the US.") == {
            "country": {"from": "JP", "to": "US"}
        }
    assert client.get("/api/v1/projects/alpha").json()["operator"]["country"] == "US"
    project.refresh_from_db()
    assert project.updated_at > before  # an incremental sync sees its projects move


def test_the_operator_publish_action_in_the_admin(client):
    project = published()
    operator = project.operator
    with actors.acting(superuser("editor2"), actors.Channel.ADMIN):
        operator.kind = "agency"
        operator.save()
    client.force_login(reviewer("reviewer10"))
    data = {"action": "publish", "_selected_action": [operator.pk]}
    preview = client.post("/admin/projects/operator/", data)
    assert b"agency" in preview.content and b"company" in preview.content
    response = client.post("/admin/projects/operator/", {**data, "note": "Reclassified."}, follow=True)
    assert b"1 operator published." in response.content
    assert Operator.objects.get(pk=operator.pk).kind == "agency"


# --- the logs, for staff ------------------------------------------------------------------------


def test_staff_read_a_projects_change_log_and_reviewers_the_audit_log(client):
    project = published()
    analyst = staff_user("reader-analyst")
    analyst.groups.add(Group.objects.get(name="analyst"))
    client.force_login(analyst)
    page = client.get(f"/admin/projects/change/?project__id__exact={project.pk}")
    assert page.status_code == 200 and b"test-reviewer" in page.content
    assert client.get("/admin/auditlog/logentry/").status_code == 403
    client.force_login(reviewer("reviewer8"))
    assert client.get("/admin/auditlog/logentry/").status_code == 200


def test_the_admin_records_changes_as_the_signed_in_user(client):
    project = published()
    boss = superuser("admin-editor")
    client.force_login(boss)
    page = SheetPage.of(client.get(sheet_url(project)))
    page.rate("S7.1", 2, justification="Rewritten in the admin.")
    with actors.nobody():  # the admin states its own actor
        response = client.post(sheet_url(project), page.post_data())
    assert response.status_code == 302, response.content[:400]
    entry = Change.objects.get(project=project, kind="rating", subject="S7.1", actor=boss)
    assert entry.channel == "admin" and entry.new["justification"] == "Rewritten in the admin."
    assert Publication.objects.filter(project=project).count() == 1


def test_a_write_refers_to_an_existing_operator_by_its_slug():
    published()
    client = api_client(key_owner())
    response = client.post(
        "/api/v1/projects", project_record("delta", operator="test-operator"), format="json"
    )
    assert response.status_code == 201, response.content[:300]
    assert Project.objects.get(slug="delta").operator == Operator.objects.get(slug="test-operator")
    unknown = client.post("/api/v1/projects", project_record("epsilon", operator="no-such"), format="json")
    assert unknown.status_code == 400 and "No operator has the slug 'no-such'" in json.dumps(unknown.json())


def test_a_published_project_is_withdrawn_never_deleted(client):
    from django.core.exceptions import ValidationError

    project = published()
    with pytest.raises(ValidationError, match="withdraw it instead"):
        project.delete()
    client.force_login(superuser("deleter"))
    assert client.post(f"/admin/projects/project/{project.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Project.objects.filter(pk=project.pk).exists()
