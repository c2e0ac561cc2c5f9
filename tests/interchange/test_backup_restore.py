"""Backup and restore through the interchange format: `export_projects --with-history` into an
empty database with `restore_backup` gives back identical score cards and history (every card
with its time, every publication with its note, ratings and change line, its reviewer's name
even without the account), and what the public sees is the same. A malformed history is refused,
naming the field, and nothing changes; a plain import refuses history."""

import copy
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from projects.changes import change_line
from projects.interchange.importer import InterchangeError, backup_restore, projects_import
from projects.models import Assessment, Operator, Project, Publication, ScoreCard
from projects.services.publication import draft_changes
from projects.services.ratings import assessment_save
from projects.services.uncertainty import uncertainty_compute
from tests.conftest import interchange, project_record, rated
from tests.support.actors import (
    key_owner,
    publish_as_reviewer,
    reviewer_user,
    staff_user,
    withdraw_as_reviewer,
)
from tests.support.shared_data import built_once

pytestmark = pytest.mark.django_db


def administrator():
    user = staff_user("restorer")
    user.is_superuser = True
    user.save()
    return user


def restore(path) -> None:
    call_command("restore_backup", str(path), "--user", administrator().username, stdout=io.StringIO())


def export(tmp_path, *args, name="export.json") -> str:
    path = tmp_path / name
    call_command("export_projects", "-o", str(path), *args)
    return path.read_text(encoding="utf-8")


def empty_the_database() -> None:
    """What a fresh database holds of the app: the method, nothing else."""
    Project.objects.update(current_score=None, published_score=None, publication=None)
    Publication.objects.all().delete()
    ScoreCard.objects.all().delete()
    Project.objects.all().delete()
    Operator.objects.all().delete()


def cards_and_history() -> dict:
    """Every card and publication, keyed by project slug, without database ids."""
    state = {}
    for project in Project.objects.select_related("current_score", "published_score", "publication"):
        state[project.slug] = {
            "state": project.state,
            "published_at": project.published_at,
            "current": project.current_score.card if project.current_score else None,
            "published": project.published_score.card if project.published_score else None,
            "publication": project.publication.number if project.publication else None,
            "cards": [
                (card.computed_at, card.methodology.version, card.card, card.grade, card.net_score)
                for card in project.score_history.select_related("methodology").order_by("computed_at", "id")
            ],
            "publications": [
                (
                    p.number,
                    p.published_at,
                    p.published_by_name,
                    p.note,
                    p.methodology.version,
                    p.frozen_ratings,
                    p.changes,
                    p.score.computed_at,
                    p.score.card,
                )
                for p in project.publications.select_related("score", "methodology", "published_by").order_by(
                    "number"
                )
            ],
        }
    return state


def live_a_life() -> int:
    """The demo, then a life: a rating changed and republished by a reviewer, an unpublished
    edit, a project withdrawn, and a draft never published."""
    call_command("load_demo")
    first = Project.objects.order_by("slug").first()
    assessment = first.assessments.select_related("criterion").order_by("criterion__position").first()
    assessment.level = 0 if assessment.level != 0 else 4
    assessment.not_applicable = False
    assessment_save(assessment)
    publish_as_reviewer(project=first, note="Operator report of 2026 reviewed.")
    assessment.justification = "An edit that waits for review."
    assessment_save(assessment)  # working card and ratings move on; the public keeps publication #2
    withdrawn = Project.objects.order_by("slug")[1]
    withdraw_as_reviewer(project=withdrawn, note="Withdrawn.")
    projects_import(interchange(project_record("never-published", assessments=[rated("S7.1", 3)])))
    return first.pk


@pytest.fixture(scope="class")
def history_data(django_db_setup, django_db_blocker):
    """The demo and its life, once for the class's tests (tests/support/shared_data.py)."""
    with built_once(django_db_blocker, live_a_life) as project_id:
        yield project_id


@pytest.fixture
def history(history_data, db) -> Project:
    """The project whose life was lived, read afresh for each test."""
    return Project.objects.get(pk=history_data)


def test_a_restored_working_card_that_disagrees_with_its_ratings_is_followed_by_a_fresh_one(tmp_path):
    projects_import(interchange(project_record("alpha", assessments=[rated("S7.1", 3)])))
    data = json.loads(export(tmp_path, "--with-history"))
    data["projects"][0]["assessments"][0]["rating"] = 1  # edited after the backup was taken
    empty_the_database()
    result = backup_restore(data, user=administrator())
    assert result.restored == ["alpha"]
    project = Project.objects.select_related("current_score").get(slug="alpha")
    assert project.score_history.count() == 2  # the restored card, then the one the ratings give
    restored_card, fresh_card = data["projects"][0]["score"], project.current_score.card
    assert fresh_card["dimensions"]["sdg7"]["high"] < restored_card["dimensions"]["sdg7"]["high"]


def test_a_new_project_with_forged_history_is_not_published_by_an_import(db):
    """Finding 1: a "history" block for a new slug made it public with the card as written."""
    record = project_record("forged", assessments=[rated("S7.1", 0)])
    record["history"] = {"published": True, "score_cards": [], "publications": []}
    with pytest.raises(InterchangeError):
        projects_import(interchange(record))
    assert not Project.objects.filter(slug="forged").exists()


def test_the_api_refuses_history_in_a_project_body(db):
    from projects.models import ApiKey

    _, key = ApiKey.issue(owner=key_owner(), name="writer", scope="write")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {
        **project_record("via-api"),
        "history": {"published": False, "score_cards": [], "publications": []},
    }
    response = client.post("/api/v1/projects", body, format="json")
    assert response.status_code == 400
    assert "history" in json.dumps(response.json())
    assert not Project.objects.filter(slug="via-api").exists()


BROKEN_HISTORIES = {
    "unknown method": (
        lambda h: h["score_cards"][0].update(methodology="9.9"),
        "history.score_cards[0].methodology: Unknown method version '9.9'; published: 1.0.",
    ),
    "card of another method": (
        lambda h: h["score_cards"][0]["card"].update(methodology="0.1"),
        "history.score_cards[0].card: The card's method differs from methodology.",
    ),
    "not a card": (
        lambda h: h["score_cards"][0].update(card={"status": "rated"}),
        "history.score_cards[0].card: Not a score card: missing confidence, dimensions, methodology,",
    ),
    "a card with a word for a number": (
        lambda h: h["score_cards"][0]["card"]["overall"].update(value="high"),
        "history.score_cards[0].card: Not a score card: its status, overall or dimension figures",
    ),
    "no cards": (
        lambda h: h.update(score_cards=[], publications=[], published=False),
        "history.score_cards: ",
    ),
    "a date without a time zone": (
        lambda h: h["score_cards"][0].update(computed_at="2026-11-24T09:30:00"),
        "history.score_cards[0].computed_at: Use a date-time with a time zone",
    ),
    "a gap in the numbers": (
        lambda h: h["publications"][0].update(number=2),
        "history.publications[0].number: Publications are numbered 1, 2, 3… in order; expected 1.",
    ),
    "a card that is not there": (
        lambda h: h["publications"][0].update(score_card=99),
        "history.publications[0].score_card: No card at position 99",
    ),
    "a blank note": (
        lambda h: h["publications"][0].update(note="  "),
        "history.publications[0].note: ",
    ),
    "published without a publication": (
        lambda h: h.update(publications=[], published=True),
        "history.published: A published project needs a publication.",
    ),
    "a published rating of 5": (
        lambda h: h["publications"][0]["ratings"][0].update(rating=5),
        "history.publications[0].ratings[0].rating: ",
    ),
    "changes without their parts": (
        lambda h: h["publications"][0].update(changes={"first": True}),
        "history.publications[0].changes: Missing ",
    ),
    "an unknown key": (
        lambda h: h.update(comment="hello"),
        "history.comment: Unknown field",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_HISTORIES))
def test_a_malformed_history_is_refused_naming_the_field_and_nothing_changes(case, tmp_path):
    projects_import(
        interchange(project_record("alpha", assessments=[rated("S7.1", 3)])),
        publish=True,
        reviewer=reviewer_user(),
        note="First.",
    )
    data = json.loads(export(tmp_path, "--with-history"))
    empty_the_database()
    breaks, message = BROKEN_HISTORIES[case]
    broken = copy.deepcopy(data)
    breaks(broken["projects"][0]["history"])
    with pytest.raises(InterchangeError) as refused:
        backup_restore(broken, user=administrator())
    assert any(line.startswith(f"projects[0] 'alpha': {message}") for line in refused.value.errors), (
        refused.value.errors
    )
    assert not Project.objects.exists() and not ScoreCard.objects.exists() and not Assessment.objects.exists()


def without_run_times(text: str) -> str:
    return re.sub(r'"computed_at": "[^"]+"', '"computed_at": "…"', text)


@pytest.mark.usefixtures("history_data")
class TestABackupOfALife:
    """The demo, then a life (see ``live_a_life``), built once for these tests."""

    def test_export_with_history_into_an_empty_database_restores_cards_and_history_identically(
        self, history, tmp_path
    ):
        before = cards_and_history()
        uncertainty_compute()  # as the worker would, after the life's publications
        public_before = export(tmp_path, "--published-only", name="public-before.json")
        backup = export(tmp_path, "--with-history", name="backup.json")
        assert before[history.slug]["publication"] == 2 and len(before[history.slug]["cards"]) == 2

        empty_the_database()
        assert not ScoreCard.objects.exists()
        restore(tmp_path / "backup.json")

        assert cards_and_history() == before
        assert export(tmp_path, "--with-history", name="again.json") == backup
        # The public file also carries the uncertainty figures: computed again after the
        # restore's publications, they are the same (same data, method and seed), a later run.
        uncertainty_compute()
        public_after = export(tmp_path, "--published-only", name="public-after.json")
        assert public_before.count('"computed_at"') == 13
        assert without_run_times(public_after) == without_run_times(public_before)
        assert public_after != public_before

    def test_the_restored_history_reads_the_same_on_the_public_page_and_in_the_api(
        self, history, tmp_path, client
    ):
        export(tmp_path, "--with-history", name="backup.json")
        lines = [change_line(p.changes) for p in history.publications.order_by("-number")]
        empty_the_database()
        restore(tmp_path / "backup.json")
        body = client.get(f"/api/v1/projects/{history.slug}/scores").json()
        assert [entry["summary"] for entry in body["results"]] == lines
        assert body["results"][0]["note"] == "Operator report of 2026 reviewed."
        # The evidence edited after publication #2 is still a draft, not public.
        changes = draft_changes(Project.objects.get(slug=history.slug))
        assert changes is not None and changes["ratings"] == [] and len(changes["evidence"]) == 1

    def test_a_plain_import_refuses_history_and_changes_nothing(self, history, tmp_path):
        export(tmp_path, "--with-history", name="backup.json")
        before = cards_and_history()
        data = json.loads((tmp_path / "backup.json").read_text())
        with pytest.raises(InterchangeError) as refused:
            projects_import(data)
        assert refused.value.errors[0].startswith("projects[0] ")
        assert "history: a plain import does not take history" in refused.value.errors[0]
        assert cards_and_history() == before

    def test_a_backup_is_restored_only_into_an_empty_database_and_by_an_administrator(
        self, history, tmp_path
    ):
        export(tmp_path, "--with-history", name="backup.json")
        data = json.loads((tmp_path / "backup.json").read_text())
        before = cards_and_history()
        with pytest.raises(InterchangeError, match="database: a backup is restored into a database without"):
            backup_restore(data, user=administrator())
        empty_the_database()
        with pytest.raises(InterchangeError, match="user: restoring a backup is for administrators"):
            backup_restore(data, user=reviewer_user())
        assert not Project.objects.exists()
        backup_restore(data, user=administrator())
        assert cards_and_history() == before

    def test_a_restore_keeps_the_reviewers_name_without_the_account(self, history, tmp_path):
        export(tmp_path, "--with-history", name="backup.json")
        names = sorted(set(Publication.objects.values_list("published_by_name", flat=True)))
        assert names == ["demo-reviewer", "test-reviewer"]
        empty_the_database()
        get_user_model().objects.filter(username__in=names).delete()
        restore(tmp_path / "backup.json")
        assert sorted(set(Publication.objects.values_list("published_by_name", flat=True))) == names
        assert not Publication.objects.filter(published_by__isnull=False).exists()
        again = json.loads(export(tmp_path, "--with-history", name="again.json"))
        assert {p["published_by"] for r in again["projects"] for p in r["history"]["publications"]} == set(
            names
        )
