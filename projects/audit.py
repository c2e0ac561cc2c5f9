"""The audit trail: which models django-auditlog records, field by field, with who and when.

Timestamps that change on every save (updated_at, last_used_at) are left out so that each entry
is a real change; secrets (the API key hash) are never written to the log.
"""

from auditlog.registry import auditlog

NOISE = ["updated_at", "created_at"]


def register_audited_models() -> None:
    from projects.models import ApiKey, Assessment, Criterion, Methodology, Operator, Project

    auditlog.register(Operator, exclude_fields=NOISE)
    auditlog.register(Project, exclude_fields=NOISE)
    auditlog.register(Assessment, exclude_fields=NOISE)
    auditlog.register(Methodology, exclude_fields=NOISE)
    auditlog.register(Criterion)
    auditlog.register(ApiKey, exclude_fields=[*NOISE, "key_hash", "last_used_at"])
