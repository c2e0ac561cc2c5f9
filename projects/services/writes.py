"""Single-project writes from the API: validate like the importer, store, rescore — atomically."""

from django.db import transaction
from rest_framework import exceptions

from projects.interchange.schema import ProjectRecord
from projects.models import Project
from projects.selectors import criteria_of, methodology_current

from .projects import assessments_replace, operator_upsert, project_upsert
from .scoring import project_rescore, rescoring_deferred


def project_save_record(*, record, expected_slug: str | None = None, user=None) -> Project:
    """Create (expected_slug None) or update a project from an interchange record.

    Raises DRF's ValidationError naming each bad field; nothing is stored then.
    """
    if not isinstance(record, dict):
        raise exceptions.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    methodology = methodology_current()
    criteria = {criterion.code: criterion for criterion in criteria_of(methodology)}
    serializer = ProjectRecord(
        data=record, context={"criterion_codes": set(criteria), "method_version": methodology.version}
    )
    serializer.is_valid(raise_exception=True)
    clean = serializer.validated_data
    if expected_slug is not None and clean["slug"] != expected_slug:
        raise exceptions.ValidationError({"slug": ["The slug in the body must match the address."]})
    if expected_slug is None and Project.objects.filter(slug=clean["slug"]).exists():
        raise exceptions.ValidationError(
            {"slug": ["A project with this slug exists; update it at its address."]}
        )
    with transaction.atomic(), rescoring_deferred():
        operator = operator_upsert(**clean["operator"])
        project, _ = project_upsert(record=clean, operator=operator)
        if "assessments" in clean:
            assessments_replace(project=project, items=clean["assessments"], criteria=criteria, user=user)
        project_rescore(project_id=project.pk)
    return project
