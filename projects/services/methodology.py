"""Publishing a methodology version: ratings carried over by criterion code, then every project
rescored by background workers (see projects.tasks)."""

import copy
import re
from collections import Counter

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from projects import actors, scoring
from projects.freshness import site_changed
from projects.methodology.rules import (
    criteria_problems,
    parameter_problems,
)
from projects.models import Assessment, Criterion, Methodology, RescoreJob
from projects.selectors import criteria_of, methodology_current
from projects.vocabularies import PublicationState

from .bulk import statistics_refresh
from .scoring import method_spec
from .webhook_events import methodology_event, rescoring_event


class MethodRefused(Exception):
    """The version cannot be published; the message says why."""


CARRY_OVER = """
INSERT INTO {assessment} (project_id, criterion_id, level, not_applicable, justification,
                          justification_ja, evidence_grade, source_url, assessed_by_id,
                          created_at, updated_at)
SELECT a.project_id, new.id, a.level, a.not_applicable, a.justification,
       a.justification_ja, a.evidence_grade, a.source_url, a.assessed_by_id,
       a.created_at, a.updated_at
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
        copied = cursor.rowcount
    statistics_refresh(Assessment)  # a method's worth of new rows, read next by the rescoring
    return copied


def release_refusal(*, methodology: Methodology, user) -> str | None:
    """Why ``user`` may not release the version now (None when they may): releasing is for
    administrators other than its drafter, and only a version that passes every check."""
    if not user.has_perm("projects.publish_methodology"):
        return _("Method %(version)s: releasing a method is for administrators.") % {
            "version": methodology.version
        }
    if methodology.drafted_by_id is not None and methodology.drafted_by_id == user.pk:
        return _("Method %(version)s: you drafted it; another administrator must release it.") % {
            "version": methodology.version
        }
    if methodology.is_published:
        return _("Method %(version)s is published already.") % {"version": methodology.version}
    if not methodology.criteria.exists():
        return _("Method %(version)s has no criteria.") % {"version": methodology.version}
    problems = methodology_problems(methodology)
    if problems:
        return _("Method %(version)s cannot be released: %(problems)s") % {
            "version": methodology.version,
            "problems": "; ".join(problems),
        }
    try:
        method_spec(methodology)
    except (scoring.MethodError, ValueError) as exc:
        return _("Method %(version)s cannot score: %(problem)s") % {
            "version": methodology.version,
            "problem": exc,
        }
    return None


def methodology_publish(*, methodology: Methodology) -> RescoreJob:
    """Publish a draft version, as the stated actor (``projects.actors``), who must not be the
    one who drafted it: it becomes the method scores are computed under. Ratings are carried over
    from the current version and a rescoring job is queued for every project; the automatic
    republications it makes are the releasing administrator's."""
    from projects.tasks import rescore_start

    user = actors.required("method release").user
    refusal = release_refusal(methodology=methodology, user=user)
    if refusal:
        raise MethodRefused(refusal)
    with transaction.atomic():
        previous = methodology_current()
        Methodology.objects.filter(pk=methodology.pk).update(
            state=PublicationState.PUBLISHED, published_at=timezone.now(), released_by=user
        )
        methodology.refresh_from_db()
        site_changed()  # the methodology pages show the new version
        if previous is not None:
            ratings_carry_over(source=previous, target=methodology)
        job = rescore_start(methodology=methodology, user=user)
        methodology_event(methodology)
        if job.state == RescoreJob.State.DONE:  # nothing to rescore
            rescoring_event(job.pk)
        return job


# --- Checking a version: what the engine, the release and the method pages need -------------

# The criterion fields a new draft copies from its source (everything but its method).
COPIED_CRITERION_FIELDS = [
    "code",
    "dimension",
    "weight",
    "position",
    "references",
    "name_en",
    "name_ja",
    "description_en",
    "description_ja",
    "levels_en",
    "levels_ja",
]


def methodology_problems(methodology: Methodology, criteria: list[dict] | None = None) -> list[str]:
    """Everything that would stop ``methodology`` from scoring or being released, with its
    stored criteria unless ``criteria`` (dicts of Criterion fields) are given; empty when none."""
    problems = parameter_problems(methodology.parameters, version=methodology.version)
    if problems:
        return problems
    if criteria is None:
        criteria = list(criteria_of(methodology).values(*COPIED_CRITERION_FIELDS))
    return criteria_problems(criteria, methodology.parameters, version=methodology.version)


# --- Drafting and deleting versions ---------------------------------------------------------

VERSION_FORMAT = re.compile(r"^\d{1,4}(\.\d{1,4}){1,3}$")


def version_key(version: str) -> tuple[int, ...]:
    """A version's numbers, for ordering: "1.10" comes after "1.9"; "1.0.0" is "1.0"."""
    numbers = [int(part) for part in version.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def version_problem(version: str, *, source: Methodology) -> str | None:
    """Why ``version`` cannot number a new draft from ``source`` (None when it can): numbers
    separated by dots, not used yet, and later than the source and every released version, so
    that versions read in the order they were made."""
    version = (version or "").strip()
    if not VERSION_FORMAT.match(version):
        return _("version: %(version)r is not a version number like 1.1 or 2.0") % {"version": version}
    if Methodology.objects.filter(version=version).exists():
        return _("version: %(version)s exists already") % {"version": version}
    released = Methodology.objects.filter(state=PublicationState.PUBLISHED).values_list("version", flat=True)
    later_than = [other for other in [source.version, *released] if VERSION_FORMAT.match(other)]
    latest = max(later_than, key=version_key, default=None)
    if latest is not None and version_key(version) <= version_key(latest):
        return _("version: must come after %(latest)s") % {"latest": latest}
    return None


def methodology_draft_from(*, source: Methodology, version: str) -> Methodology:
    """A new draft version numbered ``version`` that copies ``source``: its parameters and every
    criterion with its weight, references, names, descriptions and level texts in both languages.

    Drafted by the stated actor (``projects.actors``), who therefore cannot release it. The one
    way to draft from a version, whatever the channel (admin button, shell)."""
    actor = actors.required("method drafting")
    if not actor.user.has_perm("projects.add_methodology"):
        raise MethodRefused(
            _("Method %(version)s: drafting a method is for administrators.") % {"version": source.version}
        )
    version = (version or "").strip()
    problem = version_problem(version, source=source)
    if problem:
        raise MethodRefused(problem)
    try:
        with transaction.atomic():
            draft = Methodology.objects.create(
                version=version,
                state=PublicationState.DRAFT,
                parameters=copy.deepcopy(source.parameters),
                drafted_by=actor.user,
            )
            Criterion.objects.bulk_create(
                Criterion(methodology=draft, **{name: copy.deepcopy(value) for name, value in item.items()})
                for item in criteria_of(source).values(*COPIED_CRITERION_FIELDS)
            )
    except IntegrityError:  # another drafter took the number in between
        raise MethodRefused(_("version: %(version)s exists already") % {"version": version}) from None
    return draft


def methodology_delete(*, methodology: Methodology) -> None:
    """Delete a draft version with its criteria, as the stated actor. A released version is never
    deleted: score cards and publications cite it."""
    actor = actors.required("method deletion")
    if not actor.user.has_perm("projects.delete_methodology"):
        raise MethodRefused(f"Method {methodology.version}: deleting a method is for administrators.")
    try:
        with transaction.atomic():
            locked = Methodology.objects.select_for_update().get(pk=methodology.pk)
            if locked.is_published:
                raise MethodRefused(
                    f"Method {locked.version} is released; a released method is never deleted."
                )
            Criterion.objects.filter(methodology=locked).delete()
            locked.delete()
    except ProtectedError:
        raise MethodRefused(
            f"Method {methodology.version}: score cards or ratings refer to it; it cannot be deleted."
        ) from None


# --- What a release would change ------------------------------------------------------------

NO_GRADE = None  # insufficient data: no grade


def release_preview(*, methodology: Methodology) -> dict:
    """What releasing ``methodology`` would do to the grades: every project's current ratings
    (under the released method, carried over by criterion code as the release does) scored by the
    engine under the current method and under ``methodology``.

    Returns {"projects": how many have ratings, "grade_changes", "net_changes" (projects whose
    served net score moves), "transitions": [{"from", "to", "count", "changed"}] (grades, None
    for insufficient data), best grade first}. Ratings are read in one query; bounded by the
    number of ratings (fine for thousands of projects, in a request)."""
    draft = method_spec(methodology)
    current = methodology_current()
    ratings: dict[int, list[scoring.Rating]] = {}
    if current is not None:
        rows = Assessment.objects.filter(criterion__methodology=current).values_list(
            "project_id", "criterion__code", "level", "evidence_grade", "not_applicable"
        )
        for project_id, code, level, grade, not_applicable in rows.iterator(chunk_size=5000):
            ratings.setdefault(project_id, []).append(
                scoring.Rating(code, level, grade or None, bool(not_applicable))
            )
    now_spec = method_spec(current) if current is not None else None
    known = set(draft.criteria_by_code)
    moves: Counter = Counter()
    net_changes = 0
    for project_ratings in ratings.values():
        before = scoring.score(now_spec, project_ratings) if now_spec is not None else None
        after = scoring.score(draft, [rating for rating in project_ratings if rating.code in known])
        moves[(before.grade if before else NO_GRADE, after.grade)] += 1
        if before is None or scoring.round_half_up(before.net, 1) != scoring.round_half_up(after.net, 1):
            net_changes += 1
    order = [grade for grade, _low in draft.grade_bands]
    if now_spec is not None:
        order += [grade for grade, _low in now_spec.grade_bands if grade not in order]

    def rank(grade):
        return order.index(grade) if grade in order else len(order)

    transitions = [
        {"from": old, "to": new, "count": count, "changed": old != new}
        for (old, new), count in sorted(moves.items(), key=lambda item: (rank(item[0][0]), rank(item[0][1])))
    ]
    return {
        "projects": len(ratings),
        "grade_changes": sum(item["count"] for item in transitions if item["changed"]),
        "net_changes": net_changes,
        "transitions": transitions,
    }
