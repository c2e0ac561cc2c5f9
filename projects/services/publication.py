"""Publishing and withdrawing projects: only published projects are shown outside the admin.

Four eyes: a reviewer may not publish a project whose ratings or facts they changed themselves
since its last publication (the audit trail says who changed what).
"""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from projects.models import Assessment, Project
from projects.vocabularies import PublicationState


class PublicationRefused(Exception):
    """The project cannot be published by this user; the message says why."""


def editors_since_publication(project: Project) -> set[int]:
    """Ids of the users who changed the project or its ratings since it was last published."""
    entries = LogEntry.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(Project), object_pk=str(project.pk))
        | Q(
            content_type=ContentType.objects.get_for_model(Assessment),
            object_pk__in=[str(pk) for pk in project.assessments.values_list("pk", flat=True)],
        )
    ).exclude(actor=None)
    if project.published_at is not None:
        entries = entries.filter(timestamp__gt=project.published_at)
    # Publishing itself is logged as a change of state; it is not an edit of the content.
    return {entry.actor_id for entry in entries if set(entry.changes_dict or {}) - {"state", "published_at"}}


def project_publish(*, project: Project, user=None) -> bool:
    """Publish a project; returns False when it was published already.

    Raises PublicationRefused when ``user`` changed it since its last publication.
    """
    if user is not None and user.pk in editors_since_publication(project):
        raise PublicationRefused(
            f"{project.name}: you changed it since its last publication; another reviewer must publish it."
        )
    now = timezone.now()
    changed = Project.objects.filter(pk=project.pk, state=PublicationState.DRAFT).update(
        state=PublicationState.PUBLISHED, published_at=now, updated_at=now
    )
    project.refresh_from_db(fields=["state", "published_at", "updated_at"])
    return bool(changed)


def project_unpublish(*, project: Project, user=None) -> bool:
    """Withdraw a project from publication; returns False when it was a draft already."""
    changed = Project.objects.filter(pk=project.pk, state=PublicationState.PUBLISHED).update(
        state=PublicationState.DRAFT, updated_at=timezone.now()
    )
    project.refresh_from_db(fields=["state", "updated_at"])
    return bool(changed)
