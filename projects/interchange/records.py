"""A single project's record, as the API's writes receive it: checked against the interchange
format (the importer's rules), before the services store it (services.writes)."""

from projects.models import Project
from projects.selectors import criteria_of, methodology_current
from projects.services.errors import InvalidInput, SlugTaken

from .schema import ProjectRecord


def json_object(body) -> dict:
    """A request body that must be a JSON object."""
    if not isinstance(body, dict):
        raise InvalidInput.of("non_field_errors", "The body must be a JSON object.")
    return body


def project_validate_record(*, record, expected_slug: str | None) -> dict:
    """Check a record for a create (expected_slug None) or an update of that slug.

    Returns the clean record; raises InvalidInput naming each bad field, or SlugTaken.
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
    if not serializer.is_valid():
        raise InvalidInput(serializer.errors)
    clean = serializer.validated_data
    if expected_slug is not None and clean["slug"] != expected_slug:
        raise InvalidInput.of("slug", "The slug in the body must match the address.")
    if expected_slug is None and Project.objects.filter(slug__iexact=clean["slug"]).exists():
        raise SlugTaken()
    return clean
