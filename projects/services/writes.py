"""Single-project writes from the API: store a record checked like the importer's
(interchange.records), and rescore — atomically."""

from django.db import transaction

from projects.models import Project
from projects.selectors import criteria_of, methodology_current

from .errors import InvalidInput, SlugTaken
from .projects import (
    OperatorConflict,
    ProjectExists,
    assessments_replace,
    operator_upsert,
    project_create,
    project_upsert,
)
from .scoring import project_rescore, rescoring_deferred


def project_save_record(*, clean: dict, create: bool = False) -> Project:
    """Create (SlugTaken when the slug is taken, never an overwrite) or update a project from a
    validated record, with its ratings, and rescore it."""
    criteria = {criterion.code: criterion for criterion in criteria_of(methodology_current())}
    with transaction.atomic(), rescoring_deferred():
        try:
            operator = operator_upsert(**clean["operator"])
        except OperatorConflict as conflict:
            raise InvalidInput.of("operator", str(conflict)) from None
        if create:
            try:
                project = project_create(record=clean, operator=operator)
            except ProjectExists:
                raise SlugTaken() from None
        else:
            project, _ = project_upsert(record=clean, operator=operator)
        if "assessments" in clean:
            assessments_replace(project=project, items=clean["assessments"], criteria=criteria)
        project_rescore(project_id=project.pk)
    return project
