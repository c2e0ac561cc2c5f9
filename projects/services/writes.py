"""Single-project writes from the API: validate like the importer, store, rescore — atomically."""

from django.db import transaction
from rest_framework import exceptions

from projects.interchange.schema import ProjectRecord
from projects.models import Project
from projects.selectors import criteria_of, methodology_current

from .projects import (
    OperatorConflict,
    ProjectExists,
    assessments_replace,
    operator_upsert,
    project_create,
    project_upsert,
)
from .scoring import project_rescore, rescoring_deferred


class SlugTaken(exceptions.APIException):
    status_code = 409
    default_detail = "A project with this slug exists; change it with PUT or PATCH at its own address."
    default_code = "conflict"


def json_object(body) -> dict:
    """A request body that must be a JSON object."""
    if not isinstance(body, dict):
        raise exceptions.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    return body


def project_validate_record(*, record, expected_slug: str | None) -> dict:
    """Check a record for a create (expected_slug None) or an update of that slug.

    Returns the clean record; raises DRF's ValidationError naming each bad field, or SlugTaken.
    """
    methodology = methodology_current()
    serializer = ProjectRecord(
        ignore_score=False,
        data=json_object(record),
        context={
            "criterion_codes": set(criteria_of(methodology).values_list("code", flat=True)),
            "method_version": methodology.version,
        },
    )
    serializer.is_valid(raise_exception=True)
    clean = serializer.validated_data
    if expected_slug is not None and clean["slug"] != expected_slug:
        raise exceptions.ValidationError({"slug": ["The slug in the body must match the address."]})
    if expected_slug is None and Project.objects.filter(slug=clean["slug"]).exists():
        raise SlugTaken()
    return clean


def project_save_record(*, clean: dict, create: bool = False) -> Project:
    """Create (SlugTaken when the slug is taken, never an overwrite) or update a project from a
    validated record, with its ratings, and rescore it."""
    criteria = {criterion.code: criterion for criterion in criteria_of(methodology_current())}
    with transaction.atomic(), rescoring_deferred():
        try:
            operator = operator_upsert(**clean["operator"])
        except OperatorConflict as conflict:
            raise exceptions.ValidationError({"operator": [str(conflict)]}) from None
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
