"""Fixtures for the public pages: published projects built through the import path."""

import pytest

from projects.interchange.importer import projects_import
from projects.management.commands.import_projects import read_interchange_file
from projects.management.commands.load_demo import DEMO_FILE
from projects.models import Project
from tests.support.actors import reviewer_user


@pytest.fixture
def demo_projects(db):
    projects_import(
        read_interchange_file(str(DEMO_FILE)),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    return Project.objects.published()
