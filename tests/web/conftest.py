"""Fixtures for the public pages: published projects built through the import path."""

import pytest

from projects.interchange.importer import projects_import
from projects.management.commands.import_projects import read_interchange_file
from projects.management.commands.load_demo import DEMO_FILE
from projects.models import Project
from tests.conftest import interchange, project_record
from tests.support.actors import reviewer_user
from tests.support.builders import every_rating
from tests.support.criteria import ALL_CODES, CODES


def all_rated(level=2, grade="B", **overrides) -> list[dict]:
    """Every criterion rated ``level``, each with evidence that names it (tests/support/builders.py)."""
    return every_rating(level, grade, evidence="Evidence for {code}.", **overrides)


def make_project(slug, *, assessments=None, publish=True, note="Test publication.", **fields) -> Project:
    """A project imported (and published) the way analysts load them; its card is computed."""
    projects_import(
        interchange(
            project_record(slug, assessments=all_rated() if assessments is None else assessments, **fields)
        ),
        publish=publish,
        reviewer=reviewer_user() if publish else None,
        note=note,
    )
    return Project.objects.select_related("current_score").get(slug=slug)


@pytest.fixture
def demo_projects(db):
    projects_import(
        read_interchange_file(str(DEMO_FILE)),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    return Project.objects.published()


__all__ = ["ALL_CODES", "CODES", "all_rated", "make_project"]
