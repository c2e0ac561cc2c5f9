"""Publishing a methodology version: ratings carried over by criterion code, then every project
rescored by background workers (see projects.tasks)."""

import copy
import json
import re
from collections import Counter

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from projects import actors, scoring
from projects.freshness import site_changed
from projects.models import Assessment, Criterion, Methodology, RescoreJob
from projects.selectors import criteria_of, methodology_current
from projects.vocabularies import RISK_DIMENSIONS, Dimension, EvidenceGrade, PublicationState

from .bulk import statistics_refresh
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
        return rescore_start(methodology=methodology, user=user)


# --- Checking a version: what the engine, the release and the method pages need -------------

LANGUAGES = {"en": "English", "ja": "Japanese"}
LEVEL_COUNT = 5  # anchored levels 0–4, the engine's scale
REQUIRED_PARAMETERS = (
    "title",
    "alpha",
    "coverage_threshold",
    "dimensions",
    "risk_levels",
    "severe_rating",
    "grades",
    "caps",
    "evidence_quality",
    "evidence_grades",
    "confidence_levels",
)
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


def _texts_problem(value, what: str) -> str | None:
    """A text the public pages show in both languages: {"en": "...", "ja": "..."}."""
    if not isinstance(value, dict):
        return f'{what}: give the text in both languages, {{"en": "…", "ja": "…"}}'
    missing = [name for code, name in LANGUAGES.items() if not str(value.get(code) or "").strip()]
    if missing:
        return f"{what}: the {' and '.join(missing)} text is missing"
    return None


def _objects(parameters: dict, key: str, fields: tuple[str, ...], problems: list[str]) -> list[dict]:
    """The list of objects at ``key``, each with ``fields``; what is wrong goes to ``problems``."""
    items = parameters.get(key)
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        problems.append(f"parameters: {key}: must be a non-empty list of objects")
        return []
    for number, item in enumerate(items, start=1):
        for name in fields:
            if name not in item:
                problems.append(f"parameters: {key}[{number}]: missing {name!r}")
        if "name" in fields and "name" in item:
            problem = _texts_problem(item["name"], f"parameters: {key}[{number}]: name")
            if problem:
                problems.append(problem)
    return items


def _descending(bounds: list, what: str) -> str | None:
    if any(later >= earlier for earlier, later in zip(bounds, bounds[1:], strict=False)):
        return f"parameters: {what}: the lower bounds must decrease from the first to the last"
    return None


def parameter_problems(parameters, *, version: str = "draft") -> list[str]:
    """Everything wrong with a version's parameters, each naming the field ("parameters:
    missing 'dimensions'"), empty when the engine, the release and the method pages can use them.

    The numbers, bands and caps are read by the engine's own parser (``scoring.Method``), so what
    passes here is exactly what the engine accepts; the rest is what it takes for granted (a
    dimension for each kind of criterion, evidence quality for every grade a rating can carry,
    bounds in order, texts in both languages)."""
    if not isinstance(parameters, dict):
        return [f"parameters: must be an object with the method's parameters, not {json.dumps(parameters)}"]
    missing = [key for key in REQUIRED_PARAMETERS if key not in parameters]
    if missing:
        return [f"parameters: missing {', '.join(repr(key) for key in missing)}"]
    problems: list[str] = []
    title = _texts_problem(parameters["title"], "parameters: title")
    if title:
        problems.append(title)
    dimensions = _objects(parameters, "dimensions", ("key", "kind", "name"), problems)
    keys = [item.get("key") for item in dimensions]
    for number, item in enumerate(dimensions, start=1):
        key = item.get("key")
        if key not in Dimension.values:
            problems.append(
                f"parameters: dimensions[{number}]: key: {key!r} is not a dimension "
                f"(one of {', '.join(Dimension.values)})"
            )
            continue
        if keys.count(key) > 1:
            problems.append(f"parameters: dimensions[{number}]: key: {key!r} is given twice")
        kind = "risk" if key in RISK_DIMENSIONS else "impact"
        if item.get("kind") != kind:
            problems.append(f"parameters: dimensions[{number}] ({key}): kind: must be {kind!r}")
        if kind == "impact" and "impact_weight" not in item:
            problems.append(f"parameters: dimensions[{number}] ({key}): missing 'impact_weight'")
    if not any(item.get("kind") == "impact" for item in dimensions):
        problems.append("parameters: dimensions: at least one impact dimension is needed")
    _objects(parameters, "risk_levels", ("key", "below", "name"), problems)
    _objects(parameters, "grades", ("grade", "min"), problems)
    _objects(parameters, "confidence_levels", ("key", "min", "name"), problems)
    severe = parameters["severe_rating"]
    if isinstance(severe, bool) or not isinstance(severe, int) or not 1 <= severe <= LEVEL_COUNT - 1:
        problems.append(f"parameters: severe_rating: must be an integer from 1 to 4, not {severe!r}")
    caps = parameters["caps"]
    if not isinstance(caps, dict) or {"risk_level_high", "severe_rating"} - set(caps):
        problems.append("parameters: caps: give the grade of each cap, risk_level_high and severe_rating")
    grades = sorted(EvidenceGrade.values)
    for key in ("evidence_quality", "evidence_grades"):
        given = parameters[key]
        if not isinstance(given, dict) or sorted(given) != grades:
            problems.append(f"parameters: {key}: give one entry for each evidence grade, {', '.join(grades)}")
    if isinstance(parameters["evidence_grades"], dict):
        for grade, names in parameters["evidence_grades"].items():
            problem = _texts_problem(names, f"parameters: evidence_grades: {grade}")
            if problem:
                problems.append(problem)
    if problems:
        return problems
    try:  # the engine's own reading of the numbers, bands and caps
        method = scoring.Method.from_dict({**parameters, "version": version, "criteria": []})
    except (scoring.MethodError, ValueError, TypeError, LookupError, AttributeError) as exc:
        return [f"parameters: {exc}"]
    if not 0 <= method.alpha <= 1:
        problems.append(f"parameters: alpha: must be from 0 to 1, not {method.alpha}")
    if not 0 < method.coverage_threshold <= 1:
        problems.append(
            f"parameters: coverage_threshold: must be above 0 and at most 1, not {method.coverage_threshold}"
        )
    for spec in method.dimensions:
        if spec.kind == scoring.engine.IMPACT and spec.impact_weight <= 0:
            problems.append(f"parameters: dimensions ({spec.key}): impact_weight: must be positive")
    risk_bounds = [below for _, below in method.risk_bands[:-1]]
    if any(b is None for b in risk_bounds) or _descending(risk_bounds[::-1], "risk_levels"):
        problems.append("parameters: risk_levels: the 'below' bounds must increase; only the last is null")
    for problem in (
        _descending([low for _grade, low in method.grade_bands], "grades"),
        _descending([low for _grade, low in method.confidence_bands], "confidence_levels"),
    ):
        if problem:
            problems.append(problem)
    for grade, quality in method.evidence_quality.items():
        if not 0 <= quality <= 1:
            problems.append(f"parameters: evidence_quality: {grade}: must be from 0 to 1, not {quality}")
    return problems


def criterion_problems(item: dict) -> list[str]:
    """What is wrong with one criterion (a dict of Criterion fields), naming the criterion and the
    field: a positive integer weight, its name and its five level texts in both languages."""
    code = str(item.get("code") or "").strip()
    label = f"criteria: {code or '(no code)'}"
    problems = [] if code else [f"{label}: code: give the criterion a code"]
    weight = item.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        problems.append(f"{label}: weight: must be a positive integer, not {weight!r}")
    for language, name in LANGUAGES.items():
        if not str(item.get(f"name_{language}") or "").strip():
            problems.append(f"{label}: name_{language}: the {name} name is missing")
        problem = level_texts_problem(item.get(f"levels_{language}"), language)
        if problem:
            problems.append(f"{label}: levels_{language}: {problem}")
    return problems


def level_texts_problem(levels, language: str) -> str | None:
    """Why ``levels`` are not a criterion's level texts in ``language`` (None when they are):
    one non-empty text for each level 0 to 4."""
    if (
        not isinstance(levels, list)
        or len(levels) != LEVEL_COUNT
        or not all(isinstance(text, str) and text.strip() for text in levels)
    ):
        return f"give the {LANGUAGES[language]} text of each level 0 to 4"
    return None


def criteria_problems(criteria: list[dict], parameters: dict, *, version: str = "draft") -> list[str]:
    """What is wrong with a version's criteria as a whole, given valid ``parameters``: each
    criterion's own problems, a dimension the parameters do not have, a code given twice, a
    dimension without criteria; then the engine's own check of the method."""
    problems = [problem for item in criteria for problem in criterion_problems(item)]
    keys = [dimension["key"] for dimension in parameters["dimensions"]]
    codes = Counter(str(item.get("code") or "").strip() for item in criteria)
    for code, count in codes.items():
        if code and count > 1:
            problems.append(f"criteria: {code}: code: given to {count} criteria")
    for item in criteria:
        if item.get("dimension") not in keys:
            problems.append(
                f"criteria: {item.get('code')}: dimension: {item.get('dimension')!r} is not a dimension "
                "of this method's parameters"
            )
    for key in keys:
        if not any(item.get("dimension") == key for item in criteria):
            problems.append(f"criteria: dimension {key!r} has no criterion")
    if problems:
        return problems
    data = {
        **parameters,
        "version": version,
        "criteria": [
            {"code": item["code"], "dimension": item["dimension"], "weight": item["weight"]}
            for item in criteria
        ],
    }
    try:
        scoring.Method.from_dict(data)
    except (scoring.MethodError, ValueError, TypeError, LookupError) as exc:
        return [f"criteria: {exc}"]
    return []


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
