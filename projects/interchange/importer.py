"""Importing interchange files: validate everything first, then upsert by slug in one transaction.

A file with any invalid project changes nothing, and each error names the project, the field
and the reason, e.g. ``projects[3] "hera": assessments[2].rating: Ensure this value is less
than or equal to 4.``

A dry run (``dry_run=True``) is the same import, rolled back at the end: what it reports is
what the editorial log would hold, read from the rows the import itself wrote.
"""

import hashlib
import json
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from projects import actors
from projects.models import Change, Methodology, Operator, Project, Publication, ScoreCard
from projects.selectors import criteria_of, methodology_current
from projects.services.projects import OperatorConflict, assessments_replace, operator_upsert, project_upsert
from projects.services.publication import (
    NothingToPublish,
    PublicationRefused,
    draft_changes,
    project_publish,
    ratings_key,
    scored_parts,
)
from projects.services.published import published_columns
from projects.services.scoring import project_rescore, rescoring_deferred
from projects.vocabularies import PublicationState, ScoreStatus

from . import FORMAT
from .schema import ProjectRecord, flatten_errors

MAX_PROJECTS = 100_000
ENVELOPE_KEYS = {"format", "methodology", "projects"}


class InterchangeError(ValueError):
    """The file cannot be imported; ``errors`` lists every problem found, one per line."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class StaleImport(InterchangeError):
    """The projects or operators the file names changed since its dry run: what would be
    imported is no longer what was previewed, so nothing was."""


@dataclass
class ProjectReport:
    """What importing one project of the file changed (or, in a dry run, would change), as the
    editorial log records it: each fact and rating old → new, and the working card's move."""

    index: int  # position in the file's "projects"
    slug: str
    name: str
    outcome: str  # "created", "updated" or "unchanged"
    facts: list[dict] = field(default_factory=list)  # {"field", "old", "new"}; none for a new project
    ratings: list[dict] = field(default_factory=list)  # {"criterion", "old", "new"}: rating dicts or None
    score: dict | None = None  # {"old", "new"}: {"grade", "net", "status"} or None, when it moved


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # history restored (new projects only)
    dry_run: bool = False  # nothing was written
    report: list[ProjectReport] = field(default_factory=list)  # with dry_run or report=True
    new_operators: list[str] = field(default_factory=list)  # with dry_run or report=True
    # A digest of what the import started from (the file's projects and operators as stored):
    # a later import given it as ``expected_state`` is refused if they moved in between.
    state: str = ""


def interchange_loads(raw: bytes) -> object:
    """The JSON document in ``raw`` (UTF-8), or InterchangeError saying where it is not one."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start})."
    except json.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
    except RecursionError:
        message = "nested too deeply to be an interchange file."
    except ValueError as exc:  # e.g. a number too long for Python to read
        message = f"not readable as JSON: {exc}."
    raise InterchangeError([message])


def _validate_envelope(data, version: str) -> list[str]:
    if not isinstance(data, dict):
        return ['The file must hold a JSON object with "format" and "projects".']
    errors = []
    unknown = sorted(set(data) - ENVELOPE_KEYS)
    if unknown:
        errors.append(
            f"{', '.join(unknown)}: unknown top-level field; allowed: format, methodology, projects."
        )
    if data.get("format") != FORMAT:
        errors.append(f'format: must be "{FORMAT}", not {data.get("format")!r}.')
    if "methodology" in data and data["methodology"] != version:
        errors.append(
            f"methodology: the file's ratings are for method {data['methodology']!r}; "
            f"this service scores under method {version}."
        )
    projects = data.get("projects")
    if not isinstance(projects, list):
        errors.append("projects: must be a list of projects.")
    elif len(projects) > MAX_PROJECTS:
        errors.append(f"projects: at most {MAX_PROJECTS} projects per file, not {len(projects)}.")
    return errors


def project_label(index: int, raw) -> str:
    """How errors name the file's project at ``index``: ``projects[3] 'hera'``."""
    return _label(index, raw)


def _label(index: int, raw) -> str:
    slug = raw.get("slug") if isinstance(raw, dict) else None
    return f"projects[{index}]" + (f" {slug!r}" if isinstance(slug, str) else "")


def projects_validate(data) -> list[dict]:
    """Check a whole file; return the cleaned project records or raise InterchangeError."""
    methodology = methodology_current()
    if methodology is None:
        raise InterchangeError(["No published methodology version: nothing can be scored."])
    errors = _validate_envelope(data, methodology.version)
    if errors:
        raise InterchangeError(errors)
    context = {
        "criterion_codes": set(criteria_of(methodology).values_list("code", flat=True)),
        "method_version": methodology.version,
        "method_versions": set(
            Methodology.objects.filter(state=PublicationState.PUBLISHED).values_list("version", flat=True)
        ),
    }
    records, slugs, operators, labels = [], {}, {}, {}
    for index, raw in enumerate(data["projects"]):
        label = _label(index, raw)
        if not isinstance(raw, dict):
            errors.append(f"{label}: must be a JSON object.")
            continue
        record = ProjectRecord(data=raw, context=context)
        if not record.is_valid():
            errors += [f"{label}: {line}" for line in flatten_errors(record.errors)]
            continue
        clean = record.validated_data
        # Slugs are one address each in any mix of cases (MOXIE is moxie).
        folded = clean["slug"].lower()
        if folded in slugs:
            errors.append(f"{label}: slug: also used by projects[{slugs[folded]}].")
        slugs.setdefault(folded, index)
        labels[folded] = label
        operator = dict(clean["operator"])
        seen = operators.setdefault(operator["name"], (index, operator))
        if seen[1] != operator:
            errors.append(
                f"{label}: operator: {operator['name']!r} is given as {operator['country']}/"
                f"{operator['kind']} here but {seen[1]['country']}/{seen[1]['kind']} in projects[{seen[0]}]."
            )
        records.append(clean)
    exact = {record["slug"] for record in records}
    for stored in (
        Project.objects.annotate(folded=Lower("slug"))
        .filter(folded__in=list(slugs))
        .values_list("slug", flat=True)
    ):
        if stored not in exact:  # another project's address in another case
            errors.append(
                f"{labels[stored.lower()]}: slug: the project {stored!r} has this slug in another case; "
                "use its slug as it is to update it, or another slug for a new project."
            )
    if errors:
        raise InterchangeError(errors)
    return records


def projects_import(
    data,
    *,
    user=None,
    publish: bool = False,
    reviewer=None,
    note: str = "",
    dry_run: bool = False,
    report: bool = False,
    expected_state: str | None = None,
) -> ImportResult:
    """Upsert the file's projects by slug, atomically, as ``user`` (default: the stated actor)
    through the import channel; score cards are recomputed in the same transaction. Without
    ``publish`` only the working facts, ratings and cards change: new projects are drafts, and
    what the public sees of published ones waits for a reviewer. With ``publish`` (a ``note``
    saying why, and a ``reviewer`` who is not ``user``), every changed project is published by
    that reviewer, under the same four-eyes rule as everywhere.

    A project's "assessments", when present, are its complete set of ratings: criteria not
    listed become missing. Without the key, its stored ratings are left as they are. History
    (cards and publications) enters only through ``backup_restore``.

    ``dry_run``: the same import, rolled back at the end; the result says what it would have
    done, project by project (``result.report``, also given by ``report``), and carries the
    ``state`` it started from. ``expected_state``: refuse (StaleImport, nothing written) unless
    the file's projects and operators are still as they were at the dry run that gave it.
    """
    if publish and not (note or "").strip():
        raise InterchangeError(["note: publishing needs a note saying why (import_projects --note)."])
    if publish and reviewer is None:
        raise InterchangeError(
            ["reviewer: publishing needs a reviewer other than the importer (--reviewer)."]
        )
    errors = [
        f"{_label(index, raw)}: history: a plain import does not take history; restore a backup with "
        "manage.py restore_backup (administrators, into an empty database)."
        for index, raw in enumerate(_raw_projects(data))
        if isinstance(raw, dict) and "history" in raw
    ]
    if errors:
        raise InterchangeError(errors)
    return _import(
        data,
        user=user,
        publish=publish,
        reviewer=reviewer,
        note=note,
        restore=False,
        dry_run=dry_run,
        report=report or dry_run,
        expected_state=expected_state,
    )


def backup_restore(data, *, user) -> ImportResult:
    """Restore an export made ``--with-history`` into an empty database, as ``user`` (an
    administrator): facts, ratings, every score card and publication exactly as they were, the
    reviewers' names kept even when their accounts do not exist here."""
    if not (user.is_superuser or user.groups.filter(name="administrator").exists()):
        raise InterchangeError(["user: restoring a backup is for administrators."])
    if Project.objects.exists():
        raise InterchangeError(["database: a backup is restored into a database without projects."])
    return _import(data, user=user, restore=True)


def _raw_projects(data) -> list:
    projects = data.get("projects") if isinstance(data, dict) else None
    return projects if isinstance(projects, list) else []


class _RollBack(Exception):
    """Ends a dry run's transaction, undoing everything it wrote."""


def _import(
    data,
    *,
    user,
    restore: bool,
    publish=False,
    reviewer=None,
    note="",
    dry_run=False,
    report=False,
    expected_state=None,
) -> ImportResult:
    importer = user if user is not None else actors.required("import").user
    records = projects_validate(data)
    methodology = methodology_current()
    criteria = {criterion.code: criterion for criterion in criteria_of(methodology)}
    result = ImportResult(dry_run=dry_run)
    try:
        with transaction.atomic():
            if report or expected_state is not None:
                result.state = _state(records, methodology)
                if expected_state is not None and expected_state != result.state:
                    raise StaleImport(
                        [
                            "The projects or operators in the file changed since its dry run; "
                            "nothing was imported. Preview it again."
                        ]
                    )
            before = _cards(records) if report else {}
            watermark = Change.objects.aggregate(last=Max("id"))["last"] or 0
            with actors.acting(importer, actors.Channel.IMPORT):
                _write(records, criteria, result, restore=restore)
                if restore:
                    _restore_publications(records, result)
            if publish:
                with actors.acting(reviewer, actors.Channel.IMPORT):
                    _publish(result, note=note)
            if report:
                _report(records, criteria, result, before=before, watermark=watermark)
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    except DjangoValidationError as exc:  # a model check the file schema did not anticipate
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        raise InterchangeError(
            [
                f"{field}: {message}" if field and field != NON_FIELD_ERRORS else message
                for field, messages in fields.items()
                for message in messages
            ]
        ) from None
    return result


def _publish(result: ImportResult, *, note: str) -> None:
    """Publish what the file changed, and projects never published, as the reviewer."""
    slugs = [*result.created, *result.updated, *result.unchanged]
    for project in Project.objects.filter(slug__in=slugs).order_by("slug"):
        try:
            project_publish(project=project, note=note)
        except NothingToPublish:
            continue
        except PublicationRefused as refused:
            raise InterchangeError([str(refused)]) from None
        result.published.append(project.slug)


def _restore_cards(project: Project, history: dict) -> None:
    """A backup's score cards, as they were: the newest becomes the working card (the rescore at
    the end of the import keeps it when it is what the ratings give, and adds one otherwise)."""
    methods = {m.version: m for m in Methodology.objects.filter(state=PublicationState.PUBLISHED)}
    cards = []
    for item in history["score_cards"]:
        card = ScoreCard.from_card(
            project_id=project.pk, methodology=methods[item["methodology"]], card=item["card"]
        )
        card.computed_at = item["computed_at"]
        card.save()
        cards.append(card)
    Project.objects.filter(pk=project.pk).update(current_score=cards[-1])
    project._restored_cards = cards


def _restore_publications(records: list[dict], result: ImportResult) -> None:
    """A backup's publications, for the projects whose cards were restored."""
    restored = set(result.restored)
    users = get_user_model()
    methods = {m.version: m for m in Methodology.objects.filter(state=PublicationState.PUBLISHED)}
    for record in records:
        if record["slug"] not in restored:
            continue
        history = record["history"]
        project = Project.objects.get(slug=record["slug"])
        cards = list(project.score_history.order_by("computed_at", "id"))
        publication = None
        for item in history["publications"]:
            by = item["published_by"]
            reviewer = users.objects.filter(**{users.USERNAME_FIELD: by}).first() if by else None
            publication = Publication.objects.create(
                project=project,
                number=item["number"],
                kind=item.get("kind", Publication.Kind.PUBLICATION),
                published_at=item["published_at"],
                published_by=reviewer,
                published_by_name=by or "",
                note=item["note"],
                methodology=methods[item["methodology"]],
                ratings=(ratings := [_published_rating(rating) for rating in item["ratings"]]),
                ratings_key=ratings_key(scored_parts(ratings)),
                score=cards[item["score_card"]],
                changes=item["changes"],
            )
        if publication is not None:
            # A withdrawal leaves the moment of the publication it withdrew.
            shown = project.publications.exclude(kind=Publication.Kind.WITHDRAWAL).order_by("-number").first()
            Project.objects.filter(pk=project.pk).update(
                **published_columns(
                    publication_id=publication.pk,
                    card_id=publication.score_id,
                    card=publication.score.card,
                    shown_at=(shown or publication).published_at,
                ),
                state=PublicationState.PUBLISHED if history["published"] else PublicationState.DRAFT,
            )
            if "published_facts" in history:
                _restore_published_facts(project, history["published_facts"])
            project.refresh_from_db()
            if draft_changes(project) is None:
                # What stands is what its last review published: the restored review stands too,
                # so only changes made from now on count against four eyes.
                Change.objects.create(
                    project=project,
                    kind=Change.Kind.PUBLICATION,
                    subject=str(publication.number),
                    new={"note": publication.note, "restored": True},
                    actor=reviewer,
                    actor_name=by or "",
                    channel=actors.Channel.IMPORT,
                    publication=publication,
                    at=publication.published_at,
                )


def _restore_published_facts(project: Project, published: dict) -> None:
    """A backup's published facts back in the columns, the working ones pending over them."""
    project.refresh_from_db()
    working = project.facts()
    columns, pending = {}, {}
    for name, value in published.items():
        if name not in working:
            raise InterchangeError([f"history.published_facts.{name}: not a fact of a project."])
        if name == "operator":
            value = operator_upsert(**value).pk
        columns["operator_id" if name == "operator" else name] = value
        pending[name] = working[name]
    Project.objects.filter(pk=project.pk).update(**columns, pending_facts=pending)


def _published_rating(item: dict) -> dict:
    """A validated published rating back in the form it is stored and exported in."""
    rating = {"criterion": item["criterion"]}
    if item["not_applicable"]:
        rating["not_applicable"] = True
    else:
        rating["rating"] = item["rating"]
    for key in ("evidence", "evidence_ja", "evidence_grade", "source_url"):
        if item.get(key):
            rating[key] = item[key]
    if "updated_at" in item:
        rating["updated_at"] = item["updated_at"].isoformat()
    return rating


def _write(records: list[dict], criteria: dict, result: ImportResult, *, restore: bool) -> None:
    with rescoring_deferred():
        operators = {}
        for index, record in enumerate(records):
            try:
                operators[record["operator"]["name"]] = operator_upsert(**record["operator"])
            except OperatorConflict as conflict:
                raise InterchangeError([f"{_label(index, record)}: operator: {conflict}"]) from None
        for record in records:
            project, outcome = project_upsert(record=record, operator=operators[record["operator"]["name"]])
            if restore and "history" in record and outcome == "created":
                _restore_cards(project, record["history"])
                result.restored.append(project.slug)
            if "assessments" in record:
                changed = assessments_replace(project=project, items=record["assessments"], criteria=criteria)
                if changed and outcome == "unchanged":
                    outcome = "updated"
            getattr(result, outcome).append(project.slug)
            project_rescore(project_id=project.pk)


# --- dry runs: the state an import starts from, and its report -----------------------------

CHUNK = 500


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _state(records: list[dict], methodology) -> str:
    """A digest of what importing ``records`` starts from: the method, each named project's
    version (it moves with every change to its draft facts or ratings; the rows stay locked
    until the import ends) and each named operator as stored."""
    slugs = sorted({record["slug"] for record in records})
    names = sorted({record["operator"]["name"] for record in records})
    projects, operators = [], []
    for chunk in _chunks(slugs):
        projects += (
            Project.objects.select_for_update().filter(slug__in=chunk).values_list("slug", "pk", "version")
        )
    for chunk in _chunks(names):
        operators += Operator.objects.filter(name__in=chunk).values_list("name", "pk", "country", "kind")
    state = {
        "method": methodology.version,
        "projects": sorted(projects),
        "operators": sorted(operators),
    }
    text = json.dumps(state, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _card_summary(grade, net, status) -> dict | None:
    if status is None:
        return None
    return {"grade": grade, "net": net, "status": status}


def _cards(records: list[dict]) -> dict:
    """Each named project's working card (grade, net, status), and the named operators that exist."""
    slugs = [record["slug"] for record in records]
    names = sorted({record["operator"]["name"] for record in records})
    cards, operators = {}, set()
    for chunk in _chunks(slugs):
        rows = Project.objects.filter(slug__in=chunk).values_list(
            "slug", "current_score__grade", "current_score__net_score", "current_score__status"
        )
        cards.update({slug: _card_summary(*card) for slug, *card in rows})
    for chunk in _chunks(names):
        operators.update(Operator.objects.filter(name__in=chunk).values_list("name", flat=True))
    return {"cards": cards, "operators": operators}


def _report(
    records: list[dict], criteria: dict, result: ImportResult, *, before: dict, watermark: int
) -> None:
    """Fill ``result.report`` from the editorial log rows this import wrote (ids above
    ``watermark``, on the file's projects: their rows stay locked until it ends)."""
    outcomes = {slug: kind for kind in ("created", "updated", "unchanged") for slug in getattr(result, kind)}
    after = _cards(records)
    result.new_operators = sorted(after["operators"] - before["operators"])
    position = {code: criterion.position for code, criterion in criteria.items()}
    operator_ids, reports = set(), {}
    for index, chunk in _indexed_chunks(records):
        ids = dict(Project.objects.filter(slug__in=[r["slug"] for r in chunk]).values_list("pk", "slug"))
        for offset, record in enumerate(chunk):
            reports[record["slug"]] = ProjectReport(
                index=index + offset,
                slug=record["slug"],
                name=record["name"],
                outcome=outcomes[record["slug"]],
            )
        changes = Change.objects.filter(
            id__gt=watermark, project_id__in=list(ids), kind__in=[Change.Kind.FACT, Change.Kind.RATING]
        ).order_by("id")
        for change in changes.values("project_id", "kind", "subject", "old", "new"):
            entry = reports[ids[change["project_id"]]]
            if change["kind"] == Change.Kind.FACT:
                if change["subject"] == "operator":
                    operator_ids.update({change["old"], change["new"]})
                entry.facts.append({"field": change["subject"], "old": change["old"], "new": change["new"]})
            else:
                entry.ratings.append(
                    {"criterion": change["subject"], "old": change["old"], "new": change["new"]}
                )
    names = dict(Operator.objects.filter(pk__in=operator_ids - {None}).values_list("pk", "name"))
    for slug, entry in reports.items():
        for fact in entry.facts:
            if fact["field"] == "operator":
                fact["old"], fact["new"] = (
                    names.get(fact["old"], fact["old"]),
                    names.get(fact["new"], fact["new"]),
                )
        entry.ratings.sort(key=lambda item: position.get(item["criterion"], 0))
        old, new = before["cards"].get(slug), after["cards"].get(slug)
        if old != new:
            entry.score = {"old": old, "new": new}
    result.report = [reports[record["slug"]] for record in records]


def _indexed_chunks(records: list[dict]):
    for start in range(0, len(records), CHUNK):
        yield start, records[start : start + CHUNK]


TEXT_PREVIEW = 80


def value_text(value, *, limit: int = TEXT_PREVIEW) -> str:
    """A fact's value on one line: "—" for none, lists joined, long texts cut with "…"."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rating_text(value: dict | None) -> str:
    """A logged rating on one line: "—" (missing), "not applicable", or "3 (evidence B)"."""
    if value is None:
        return "—"
    if value.get("not_applicable"):
        return _("not applicable")
    grade = value.get("evidence_grade")
    if not grade:
        return str(value.get("level"))
    return _("%(level)s (evidence %(grade)s)") % {"level": value.get("level"), "grade": grade}


def rating_evidence_revised(item: dict) -> bool:
    """True when a rating's evidence text or source changed (its level and grade may not have)."""
    old, new = item["old"] or {}, item["new"] or {}
    return bool(old and new) and any(
        old.get(name) != new.get(name) for name in ("justification", "justification_ja", "source_url")
    )


def card_text(card: dict | None) -> str:
    if card is None:
        return "—"
    if card["net"] is None:  # not scored: its status says why ("insufficient data")
        status = card["status"]
        return str(ScoreStatus(status).label) if status in ScoreStatus.values else str(status)
    return f"{card['grade'] or '—'} {card['net']:.1f}"


def report_lines(result: ImportResult) -> list[str]:
    """The report as text (import_projects --dry-run prints it), one project at a time."""
    lines = [f"New operator: {name}" for name in result.new_operators]
    for entry in result.report:
        lines.append(f"projects[{entry.index}] {entry.slug!r} ({entry.name}): {entry.outcome}")
        for fact in entry.facts:
            lines.append(f"  {fact['field']}: {value_text(fact['old'])} → {value_text(fact['new'])}")
        for item in entry.ratings:
            revised = f" ({_('evidence revised')})" if rating_evidence_revised(item) else ""
            lines.append(
                f"  {item['criterion']}: {rating_text(item['old'])} → {rating_text(item['new'])}{revised}"
            )
        if entry.score is not None:
            lines.append(f"  {_('score')}: {card_text(entry.score['old'])} → {card_text(entry.score['new'])}")
    counts = (
        f"{len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(result.published)} published"
    )
    lines.append(f"Dry run: {counts}; nothing was written." if result.dry_run else f"{counts}.")
    return lines
