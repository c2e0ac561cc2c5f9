"""The rules a method version's data must meet (parameters, criteria, level texts), as pure
functions of that data: the engine, a release and the method pages rely on them. Each problem
names its field ("parameters: missing 'dimensions'").

They sit below the models, which check a draft with them on every save, and the services and
the admin, which check a whole version before a release.
"""

import json
from collections import Counter

from projects import scoring
from projects.vocabularies import RISK_DIMENSIONS, Dimension, EvidenceGrade

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
    problems = _shape_problems(parameters)
    if problems:
        return problems
    try:  # the engine's own reading of the numbers, bands and caps
        method = scoring.Method.from_dict({**parameters, "version": version, "criteria": []})
    except (scoring.MethodError, ValueError, TypeError, LookupError, AttributeError) as exc:
        return [f"parameters: {exc}"]
    return _number_problems(method)


def _shape_problems(parameters: dict) -> list[str]:
    """What the engine's parser takes for granted: the lists and objects, texts in both
    languages, a dimension of the right kind for each key, an entry for each evidence grade."""
    problems: list[str] = []
    title = _texts_problem(parameters["title"], "parameters: title")
    if title:
        problems.append(title)
    problems += _dimension_problems(_objects(parameters, "dimensions", ("key", "kind", "name"), problems))
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
    return problems


def _dimension_problems(dimensions: list[dict]) -> list[str]:
    problems = []
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
    return problems


def _number_problems(method: scoring.Method) -> list[str]:
    """What the engine reads but does not bound: α, the coverage threshold, weights, the order of
    the bands, evidence quality."""
    problems = []
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
