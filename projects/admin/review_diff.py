"""What a reviewer approves by publishing: every change since the project's last publication.

The draft (working ratings and pending facts) is set beside what the public sees (the ratings
frozen by the last publication, the published facts), each difference with the people who made
it, the channel they used and when, read from the editorial log (``projects.models.Change``: the
project's rows after its last publication). A first publication lists every rating in full.

Plain data only (dataclasses): ``review_diff.html`` renders it, on the publish preview and
wherever else a review needs it. A constant number of queries per project, however many changes.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from projects.actors import Channel
from projects.models import Criterion, Operator, Project, Publication
from projects.models.changes import Change
from projects.services.publication import fact_changes, ratings_snapshot

from .score_card import score_explanation

ADDED, REMOVED, SAME = "added", "removed", "same"
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    """A run of words of a diffed text: ``kind`` is "same", "added" or "removed"."""

    kind: str
    text: str


@dataclass(frozen=True)
class Attribution:
    """One logged change: who, through which channel, when."""

    actor: str
    channel: str  # the channel's label ("API", "admin", ...)
    at: object  # an aware datetime
    api_key: str = ""  # the key's name, for an API write


@dataclass
class RatingDiff:
    criterion: str
    name: str
    old_level: str  # "2", "not applicable", "not assessed"; "" in a first publication
    new_level: str
    level_changed: bool
    justification: list[Piece]
    justification_ja: list[Piece]  # the Japanese translation's changes; empty when none either side
    old_grade: str
    new_grade: str
    old_source: str
    new_source: str
    changes: list[Attribution] = field(default_factory=list)

    @property
    def justification_changed(self) -> bool:
        return any(piece.kind != SAME for piece in [*self.justification, *self.justification_ja])

    @property
    def grade_changed(self) -> bool:
        return self.old_grade != self.new_grade

    @property
    def source_changed(self) -> bool:
        return self.old_source != self.new_source


@dataclass
class FactDiff:
    field: str  # the field's label
    old: str
    new: str
    changes: list[Attribution] = field(default_factory=list)


@dataclass
class ReviewDiff:
    first: bool  # never published: ``ratings`` lists every rating, not only the changed ones
    since: int | None  # the number of the publication the draft is compared with
    ratings: list[RatingDiff]
    facts: list[FactDiff]
    explanation: str = ""  # how the draft card's net score and grade came about

    @property
    def empty(self) -> bool:
        return not self.ratings and not self.facts


def word_diff(old: str, new: str) -> list[Piece]:
    """``old`` → ``new`` word by word (whitespace kept), adjacent runs of a kind merged."""
    before, after = _WORDS.findall(old or ""), _WORDS.findall(new or "")
    pieces: list[Piece] = []

    def add(kind: str, words: list[str]) -> None:
        text = "".join(words)
        if not text:
            return
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(kind, pieces[-1].text + text)
        else:
            pieces.append(Piece(kind, text))

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = before[i1:i2], after[j1:j2]
        if tag == "equal":
            add(SAME, removed)
            continue
        # A changed run reads "removed, then added"; a change of spacing alone is not marked.
        add(REMOVED if "".join(removed).strip() else SAME, removed)
        if "".join(added).strip():
            add(ADDED, added)
    return pieces


def _level_text(item: dict | None) -> str:
    if item is None:
        return _("not assessed")
    if item.get("not_applicable"):
        return _("not applicable")
    return str(item.get("rating"))


def _attribution(change: Change) -> Attribution:
    channel = Channel(change.channel).label if change.channel in Channel.values else change.channel
    return Attribution(
        actor=change.actor_name,
        channel=str(channel),
        at=change.at,
        api_key=change.api_key.name if change.api_key_id and change.api_key else "",
    )


def _log_since_publication(project: Project) -> list[Change]:
    """The project's edits after its last publication by a reviewer (all of them before the
    first), oldest first. Two queries."""
    last = (
        Change.objects.filter(project_id=project.pk, kind=Change.Kind.PUBLICATION)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    rows = Change.objects.filter(project_id=project.pk, kind__in=[Change.Kind.FACT, Change.Kind.RATING])
    if last is not None:
        rows = rows.filter(id__gt=last)
    return list(rows.select_related("actor", "api_key").order_by("id"))


def _fact_text(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def review_diff(project: Project) -> ReviewDiff:
    """The draft against the last publication, with who changed what (see the module doc)."""
    card = project.current_score
    if card is None:
        return ReviewDiff(first=project.publication_id is None, since=None, ratings=[], facts=[])
    publication = (
        Publication.objects.select_related("ratings_of").filter(pk=project.publication_id).first()
        if project.publication_id
        else None
    )
    first = publication is None
    working = {
        item["criterion"]: item
        for item in ratings_snapshot(project_id=project.pk, methodology=card.methodology)
    }
    published = {item["criterion"]: item for item in (publication.frozen_ratings if publication else [])}
    log = _log_since_publication(project)
    by_subject: dict[tuple[str, str], list[Attribution]] = {}
    for change in log:
        by_subject.setdefault((change.kind, change.subject), []).append(_attribution(change))

    criteria = list(Criterion.objects.filter(methodology_id=card.methodology_id).order_by("position"))
    names = {criterion.code: criterion.name() for criterion in criteria}
    codes = [*names, *(code for code in published if code not in names)]  # an older method's too

    ratings = []
    for code in codes:
        old, new = (None if first else published.get(code)), working.get(code)
        if first and new is None:
            continue  # a first publication lists the ratings it makes public
        if not first and _content(old) == _content(new):
            continue
        before, after = old or {}, new or {}
        if first:
            before = after  # nothing to compare with: the draft in full
        ratings.append(
            RatingDiff(
                criterion=code,
                name=names.get(code, ""),
                old_level="" if first else _level_text(old),
                new_level=_level_text(new),
                level_changed=not first and _level_text(old) != _level_text(new),
                justification=word_diff(before.get("evidence", ""), after.get("evidence", "")),
                justification_ja=word_diff(before.get("evidence_ja", ""), after.get("evidence_ja", "")),
                old_grade=before.get("evidence_grade", ""),
                new_grade=after.get("evidence_grade", ""),
                old_source=before.get("source_url", ""),
                new_source=after.get("source_url", ""),
                changes=by_subject.get((Change.Kind.RATING, code), []),
            )
        )

    pending = fact_changes(project)
    operator_ids = [item[end] for item in pending if item["field"] == "operator" for end in ("from", "to")]
    operators = (
        dict(Operator.objects.filter(pk__in=operator_ids).values_list("pk", "name")) if operator_ids else {}
    )
    facts = []
    for item in pending:
        name = item["field"]
        label = _field_label(name)
        old, new = item["from"], item["to"]
        if name == "operator":
            old, new = operators.get(old, old), operators.get(new, new)
        facts.append(
            FactDiff(
                field=label,
                old=_fact_text(old),
                new=_fact_text(new),
                changes=by_subject.get((Change.Kind.FACT, name), []),
            )
        )
    return ReviewDiff(
        first=first,
        since=None if first else _compared_number(publication),
        ratings=ratings,
        facts=facts,
        explanation=score_explanation(card.card, card.methodology),
    )


def _compared_number(publication: Publication) -> int:
    """The number of the publication whose ratings the draft is compared with: after a
    withdrawal (which repeats them, showing nothing), the one it withdrew."""
    if publication.kind == Publication.Kind.WITHDRAWAL and publication.ratings_of_id:
        return publication.ratings_of.number
    return publication.number


def _content(item: dict | None) -> dict | None:
    return None if item is None else {k: v for k, v in item.items() if k != "updated_at"}


def _field_label(name: str) -> str:
    try:
        return str(Project._meta.get_field(name).verbose_name)
    except Exception:  # a fact that is no model field any more: shown by its name
        return name
