"""Publication: the public sees ratings and a card frozen when a reviewer published them, with a
required note and a change line; every door in (import, admin, API, shell) changes drafts only."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import translation

from projects import actors
from projects.changes import change_line
from projects.interchange.importer import InterchangeError, projects_import
from projects.models import Assessment, Project, Publication
from projects.services.publication import (
    NothingToPublish,
    PublicationRefused,
    changes_of,
    draft_changes,
    project_publish,
)
from projects.services.ratings import assessment_save
from tests.conftest import interchange, project_record, rated
from tests.support.actors import publish_as_reviewer, reviewer_user, staff_user
from tests.support.builders import make_project

pytestmark = pytest.mark.django_db

FULL = [
    *(rated(code, 2) for code in ["S7.1", "S7.2", "S7.3", "S7.4", "S7.5"]),
    *(rated(code, 2) for code in ["S9.1", "S9.2", "S9.3", "S9.4", "S9.5"]),
    *(rated(code, 2) for code in ["S12.1", "S12.2", "S12.3", "S12.4", "S12.5"]),
    *(rated(code, 1) for code in ["D1", "D2", "D3", "D4", "D5"]),
    *(rated(code, 1) for code in ["E1", "E2", "E3", "E4", "E5"]),
]


def published_project(slug="alpha", assessments=FULL) -> Project:
    return make_project(slug, assessments=list(assessments), note="First.")


def set_rating(project, code, level) -> None:
    assessment = Assessment.objects.get(project=project, criterion__code=code)
    assessment.level = level
    assessment_save(assessment)


def test_the_first_publication_freezes_the_working_card_and_ratings():
    project = published_project()
    publication = project.publication
    assert publication.number == 1 and publication.note == "First."
    assert project.published_score_id == project.current_score_id == publication.score_id
    assert [item["criterion"] for item in publication.ratings][:2] == ["S7.1", "S7.2"]
    assert publication.changes["first"] is True
    with translation.override("en"):
        net = publication.score.card["overall"]["value"]
        assert change_line(publication.changes) == (
            f"first publication; net {net:.1f}; grade {publication.score.card['overall']['grade']}"
        )


def test_an_edit_moves_the_working_card_only_until_a_reviewer_publishes():
    project = published_project()
    published_card = project.published_score.card
    set_rating(project, "S9.1", 3)
    project.refresh_from_db()
    assert project.published_score.card == published_card  # the public card is frozen
    assert project.current_score.card != published_card  # the working card moved
    assert project.publication.ratings[5] == {
        **project.publication.ratings[5],
        "criterion": "S9.1",
        "rating": 2,
    }

    publication = publish_as_reviewer(project=project, note="Pilot plant report checked.")
    project.refresh_from_db()
    assert publication.number == 2
    assert project.published_score_id == project.current_score_id
    before, after = published_card["overall"], project.published_score.card["overall"]
    with translation.override("en"):
        assert change_line(publication.changes) == (
            f"S9.1 2 → 3; net {before['value']:.1f} → {after['value']:.1f}; "
            f"grade {before['grade']} → {after['grade']}"
        )
    with translation.override("ja"):
        line = change_line(publication.changes)
    assert line.startswith("S9.1 2 → 3；純スコア ") and "net" not in line  # Japanese punctuation


def test_a_note_is_required_and_bounded():
    project = published_project()
    set_rating(project, "S9.1", 3)
    for note in ["", "   \n"]:
        with pytest.raises(PublicationRefused, match="note: say why"):
            publish_as_reviewer(project=project, note=note)
    with pytest.raises(PublicationRefused, match="at most 2000 characters, not 2001"):
        publish_as_reviewer(project=project, note="x" * 2001)
    assert Publication.objects.filter(project=project).count() == 1


def test_publishing_nothing_new_is_refused():
    project = published_project()
    with pytest.raises(NothingToPublish, match="nothing changed since publication #1"):
        publish_as_reviewer(project=project, note="Again.")


def test_evidence_changes_are_named_even_when_no_rating_moves():
    project = published_project()
    assessment = Assessment.objects.get(project=project, criterion__code="E2")
    assessment.justification = "A better source."
    assessment_save(assessment)
    changes = draft_changes(project)
    assert changes["ratings"] == [] and changes["evidence"] == ["E2"]
    with translation.override("en"):
        assert change_line(changes).startswith("evidence revised: E2; net ")


def test_changes_name_missing_and_not_applicable_ratings():
    before = [rated("S7.1", 2), rated("S7.2", 1)]
    after = [{"criterion": "S7.1", "not_applicable": True}, rated("S7.3", 4)]
    card = {"methodology": "1.0", "status": "insufficient_data", "overall": {"value": None, "grade": None}}
    old = {"methodology": "1.0", "status": "insufficient_data", "overall": {"value": None, "grade": None}}
    changes = changes_of(before_ratings=before, before_card=old, ratings=after, card=card)
    assert changes["ratings"] == [
        {"criterion": "S7.1", "from": 2, "to": "n/a"},
        {"criterion": "S7.3", "from": None, "to": 4},
        {"criterion": "S7.2", "from": 1, "to": None},
    ]
    with translation.override("en"):
        assert change_line(changes) == "S7.1 2 → n/a; S7.3 — → 4; S7.2 1 → —; net — → —; grade — → —"


def test_four_eyes_a_reviewer_cannot_publish_their_own_edit():
    project = published_project()
    reviewers = Group.objects.get(name="reviewer")
    editing_reviewer, other = staff_user("ar"), staff_user("other")
    reviewers.user_set.add(editing_reviewer, other)
    with actors.acting(editing_reviewer, actors.Channel.ADMIN):
        set_rating(project, "S9.1", 3)
        with pytest.raises(PublicationRefused, match="another reviewer must do it"):
            project_publish(project=project, note="Mine.")
    with actors.acting(other, actors.Channel.ADMIN):
        publication = project_publish(project=project, note="Reviewed.")
    assert publication.published_by == other and publication.published_by_name == "other"


def test_import_without_publish_changes_drafts_only():
    project = published_project()
    published_card = project.published_score.card
    changed = [rated("S9.1", 4) if item["criterion"] == "S9.1" else item for item in FULL]
    result = projects_import(interchange(project_record("alpha", assessments=changed)))
    assert result.updated == ["alpha"] and result.published == []
    project.refresh_from_db()
    assert project.published_score.card == published_card
    assert draft_changes(project)["ratings"] == [{"criterion": "S9.1", "from": 2, "to": 4}]


def test_import_with_publish_needs_a_note_and_publishes_only_what_changed(tmp_path):
    published_project("alpha")
    published_project("beta")
    with pytest.raises(InterchangeError, match="note: publishing needs a note"):
        projects_import(
            interchange(project_record("alpha", assessments=FULL)), publish=True, reviewer=reviewer_user()
        )
    changed = [rated("S9.1", 4) if item["criterion"] == "S9.1" else item for item in FULL]
    result = projects_import(
        interchange(project_record("alpha", assessments=changed), project_record("beta", assessments=FULL)),
        publish=True,
        reviewer=reviewer_user(),
        note="Quarterly review.",
    )
    assert result.published == ["alpha"]
    assert Project.objects.get(slug="alpha").publication.note == "Quarterly review."
    assert Project.objects.get(slug="beta").publication.number == 1


def test_the_import_command_refuses_publish_without_a_note(tmp_path):
    path = tmp_path / "file.json"
    path.write_text('{"format": "sdgscore.projects/1", "projects": []}')
    with pytest.raises(CommandError, match="--note: say why"):
        call_command("import_projects", str(path), "--user", "tester", "--publish", stdout=io.StringIO())
