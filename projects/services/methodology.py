"""Publishing a methodology version: ratings carried over by criterion code, then every project
rescored by background workers (see projects.tasks)."""

from django.db import connection, transaction
from django.utils import timezone

from projects import actors, scoring
from projects.freshness import site_changed
from projects.models import Methodology, RescoreJob
from projects.selectors import methodology_current
from projects.vocabularies import PublicationState

from .scoring import method_spec


class MethodRefused(Exception):
    """The version cannot be published; the message says why."""


CARRY_OVER = """
INSERT INTO {assessment} (project_id, criterion_id, level, not_applicable, justification,
                          evidence_grade, source_url, assessed_by_id, created_at, updated_at)
SELECT a.project_id, new.id, a.level, a.not_applicable, a.justification,
       a.evidence_grade, a.source_url, a.assessed_by_id, a.created_at, a.updated_at
FROM {assessment} a
JOIN {criterion} old ON old.id = a.criterion_id
JOIN {criterion} new ON new.code = old.code AND new.methodology_id = %s
WHERE old.methodology_id = %s
"""


def ratings_carry_over(*, source: Methodology, target: Methodology) -> int:
    """Copy every rating under ``source`` to the criterion of the same code in ``target`` (one
    statement); criteria that are new in ``target`` start missing. Returns the rows copied."""
    from projects.models import Assessment, Criterion

    sql = CARRY_OVER.format(
        assessment=connection.ops.quote_name(Assessment._meta.db_table),
        criterion=connection.ops.quote_name(Criterion._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [target.pk, source.pk])
        return cursor.rowcount


def methodology_publish(*, methodology: Methodology) -> RescoreJob:
    """Publish a draft version, as the stated actor (``projects.actors``), who must not be the
    one who drafted it: it becomes the method scores are computed under. Ratings are carried over
    from the current version and a rescoring job is queued for every project; the automatic
    republications it makes are the releasing administrator's."""
    from projects.tasks import rescore_start

    user = actors.required("method release").user
    if not user.has_perm("projects.publish_methodology"):
        raise MethodRefused(f"Method {methodology.version}: releasing a method is for administrators.")
    if methodology.drafted_by_id is not None and methodology.drafted_by_id == user.pk:
        raise MethodRefused(
            f"Method {methodology.version}: you drafted it; another administrator must release it."
        )
    if methodology.is_published:
        raise MethodRefused(f"Method {methodology.version} is published already.")
    if not methodology.criteria.exists():
        raise MethodRefused(f"Method {methodology.version} has no criteria.")
    try:
        method_spec(methodology)
    except (scoring.MethodError, ValueError) as exc:
        raise MethodRefused(f"Method {methodology.version} cannot score: {exc}") from None
    with transaction.atomic():
        previous = methodology_current()
        Methodology.objects.filter(pk=methodology.pk).update(
            state=PublicationState.PUBLISHED, published_at=timezone.now(), released_by=user
        )
        methodology.refresh_from_db()
        site_changed()  # the methodology pages show the new version
        if previous is not None:
            ratings_carry_over(source=previous, target=methodology)
        return rescore_start(methodology=methodology, user=user)
