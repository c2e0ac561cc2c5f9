"""The services refuse a write in their own terms (services.errors), whichever channel asked:
the field and the message, or the conflict; the API answers them (tests/api)."""

import pytest
from rest_framework.exceptions import APIException

from projects.interchange.importer import projects_import
from projects.interchange.records import project_validate_record
from projects.models import Project
from projects.services.errors import InvalidInput, SlugTaken
from projects.services.writes import project_save_record
from tests.conftest import interchange, project_record

pytestmark = pytest.mark.django_db


def test_a_create_under_a_slug_taken_meanwhile_is_refused_and_changes_nothing():
    clean = project_validate_record(record=project_record("alpha"), expected_slug=None)
    projects_import(interchange(project_record("alpha", name="The first")))
    with pytest.raises(SlugTaken) as refused:
        project_save_record(clean=clean, create=True)
    assert not isinstance(refused.value, APIException)
    assert "slug exists" in str(refused.value)
    assert Project.objects.get(slug="alpha").name == "The first"


def test_a_record_describing_a_known_operator_differently_is_refused_naming_the_operator():
    projects_import(interchange(project_record("alpha")))
    record = project_record("beta", operator={"name": "Test Operator", "country": "US", "kind": "company"})
    clean = project_validate_record(record=record, expected_slug=None)
    with pytest.raises(InvalidInput) as refused:
        project_save_record(clean=clean, create=True)
    assert not isinstance(refused.value, APIException)
    assert list(refused.value.errors) == ["operator"] and refused.value.errors["operator"][0]
    assert not Project.objects.filter(slug="beta").exists()
