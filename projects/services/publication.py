"""Publishing and withdrawing projects: only published projects are shown outside the admin."""

from django.utils import timezone

from projects.models import Project
from projects.vocabularies import PublicationState


def project_publish(*, project: Project, user=None) -> bool:
    """Publish a project; returns False when it was published already."""
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
