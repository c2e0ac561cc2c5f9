"""Score cards follow the ratings in the same transaction, on every path in: the shell's too,
through the service that saves ratings (services.ratings)."""

import pytest
from django.db import transaction

from projects.interchange.importer import projects_import
from projects.models import Assessment, Criterion, Project, ScoreCard
from projects.services.ratings import assessment_remove, assessment_save
from projects.services.scoring import project_rescore, rescoring_deferred
from tests.conftest import interchange, project_record, rated
from tests.support.criteria import ALL_CODES

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    projects_import(interchange(project_record("alpha", assessments=[rated(c, 2) for c in ALL_CODES])))
    return Project.objects.get(slug="alpha")


def current(project):
    project.refresh_from_db()
    return project.current_score


def test_saving_an_assessment_in_the_shell_updates_the_card(project):
    assessment = Assessment.objects.get(project=project, criterion__code="S7.1")
    assessment.level = 4
    assessment_save(assessment)
    # sdg7: (3*4 + 2*2 + 2*2 + 1*2 + 2*2) / (4*10) = 26/40 = 65.0
    assert current(project).card["dimensions"]["sdg7"]["value"] == 65.0


def test_deleting_an_assessment_makes_it_missing_not_zero(project):
    assessment_remove(Assessment.objects.get(project=project, criterion__code="S7.1"))
    sdg7 = current(project).card["dimensions"]["sdg7"]
    # assessed weight 7 of 10: value stays 50, low 100*14/40 = 35, high 100*(14+12)/40 = 65
    assert (sdg7["value"], sdg7["low"], sdg7["high"], sdg7["coverage"]) == (50.0, 35.0, 65.0, 0.7)


def test_a_failed_transaction_leaves_rating_and_card_unchanged(project):
    before = current(project)
    with pytest.raises(RuntimeError), transaction.atomic():
        assessment = Assessment.objects.get(project=project, criterion__code="S7.1")
        assessment.level = 4
        assessment_save(assessment)
        raise RuntimeError("the rest of the change failed")
    assert Assessment.objects.get(project=project, criterion__code="S7.1").level == 2
    assert current(project) == before
    assert ScoreCard.objects.filter(project=project).count() == 1


def test_deferred_block_makes_one_history_entry_for_many_changes(project):
    with rescoring_deferred():
        for assessment in Assessment.objects.filter(project=project, criterion__dimension="sdg9"):
            assessment.level = 4
            assessment_save(assessment)
    assert project.score_history.count() == 2
    assert current(project).card["dimensions"]["sdg9"]["value"] == 100.0


def test_new_assessment_in_the_shell_updates_the_card():
    projects_import(interchange(project_record("beta")))
    project = Project.objects.get(slug="beta")
    assert current(project).status == "insufficient_data"
    assessment_save(
        Assessment(
            project=project,
            criterion=Criterion.objects.get(code="D1"),
            level=4,
            justification="No disposal plan.",
            evidence_grade="C",
        )
    )
    debris = current(project).card["dimensions"]["debris"]
    assert debris["severe"] is True
    assert debris["level"] is None  # 3 of 10 weight assessed: not covered, no level served


def test_rescoring_unchanged_ratings_keeps_the_card(project):
    card = current(project)
    assert project_rescore(project_id=project.pk) == card
    assert project.score_history.count() == 1
