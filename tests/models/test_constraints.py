"""The database itself refuses what must never be stored, whatever path writes it."""

import pytest
from django.db import IntegrityError, transaction

from projects.interchange.importer import projects_import
from projects.models import Assessment, Criterion, Methodology, Project
from tests.conftest import interchange, project_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    projects_import(interchange(project_record("alpha")))
    return Project.objects.get(slug="alpha")


def bulk_insert(**fields):
    """Insert without model validation or save(): only the database's constraints stand guard."""
    with transaction.atomic():
        Assessment.objects.bulk_create([Assessment(**fields)])


def criterion(code):
    return Criterion.objects.get(methodology__version="1.0", code=code)


@pytest.mark.parametrize("level", [5, 9])
def test_level_outside_0_to_4_is_refused_by_the_database(project, level):
    with pytest.raises(IntegrityError):
        bulk_insert(project=project, criterion=criterion("S7.1"), level=level, evidence_grade="B")


def test_second_assessment_of_a_criterion_is_refused_by_the_database(project):
    bulk_insert(project=project, criterion=criterion("S7.1"), level=1, evidence_grade="B")
    with pytest.raises(IntegrityError):
        bulk_insert(project=project, criterion=criterion("S7.1"), level=2, evidence_grade="B")


def test_level_and_not_applicable_together_are_refused(project):
    with pytest.raises(IntegrityError):
        bulk_insert(
            project=project, criterion=criterion("D5"), level=1, not_applicable=True, evidence_grade="B"
        )


def test_neither_level_nor_not_applicable_is_refused(project):
    with pytest.raises(IntegrityError):
        bulk_insert(project=project, criterion=criterion("D5"), evidence_grade="B")


def test_rated_assessment_without_evidence_grade_is_refused(project):
    with pytest.raises(IntegrityError):
        bulk_insert(project=project, criterion=criterion("D5"), level=1, evidence_grade="")


def test_unknown_target_body_is_refused(project):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(target_body="venus")


def test_published_methodology_cannot_be_changed():
    method = Methodology.objects.get(version="1.0")
    method.parameters = {**method.parameters, "alpha": "1"}
    with pytest.raises(Exception, match="published methodology version cannot be changed"):
        method.save()
    assert Methodology.objects.get(version="1.0").parameters["alpha"] == "1/2"


def test_method_1_0_is_installed_with_its_weights_and_texts():
    method = Methodology.objects.get(version="1.0")
    assert method.is_published
    weights = {c.code: c.weight for c in method.criteria.all()}
    assert len(weights) == 25
    assert (weights["S7.1"], weights["S9.4"], weights["S12.2"], weights["D1"], weights["E2"]) == (
        3,
        1,
        3,
        3,
        3,
    )
    for c in method.criteria.all():
        assert len(c.levels_en) == 5 and len(c.levels_ja) == 5
        assert all(text.strip() for text in c.levels_en + c.levels_ja)
        assert c.name_ja and c.description_en and c.description_ja
