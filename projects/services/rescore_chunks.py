"""Rescoring a chunk of projects (a range of ids) under a method version: read, score, write.

Read and score without holding locks (so that several workers score at once, even on SQLite),
then one short transaction locks the projects and switches each to its new card in a single row
update, so a reader sees a project's old card or its new one, never a mix, and an analyst's edit
is never overwritten by a card computed from older ratings. Memory stays flat: nothing outlives
its chunk.

When the method differs from the one a published project was published under, its public card
moves too: the ratings frozen at publication are scored under the new method and recorded as an
automatic publication ("method 1.0 → 1.1; net …"), the ratings unchanged.

The rows are written in bulk (services.bulk); the job that runs chunks in workers is
services.rescoring.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects import scoring
from projects.freshness import site_changed
from projects.models import Methodology, Project, Publication, ScoreCard
from projects.vocabularies import PublicationState

from .bulk import CARD_COLUMNS, PUBLICATION_COLUMNS, card_row, db_moment, insert_rows, update_projects
from .publication import changes_of, ratings_key, scored_parts
from .published import PUBLISHED_COLUMNS, published_columns
from .scoring import method_spec, project_rescore
from .uncertainty import uncertainty_request

AUTOMATIC_NOTE = "Rescored under method {version}; no rating changed (automatic)."


@dataclass
class ChunkResult:
    projects: int = 0
    changed: int = 0
    republished: int = 0

    def __iadd__(self, other: ChunkResult) -> ChunkResult:
        self.projects += other.projects
        self.changed += other.changed
        self.republished += other.republished
        return self


@dataclass(frozen=True, slots=True)
class SeenProject:
    """A project of the chunk as read before scoring, without locks."""

    pk: int
    card_id: int | None  # its working card
    card_method_id: int | None
    state: str
    publication_id: int | None  # its last publication
    publication_method_id: int | None

    def public_card_moves(self, methodology_id: int) -> bool:
        """Published under another method: its public card follows the new one."""
        return bool(
            self.state == PublicationState.PUBLISHED
            and self.publication_id
            and self.publication_method_id != methodology_id
        )


@dataclass(slots=True)
class Republication:
    """An automatic publication of a published project's frozen ratings under the new method."""

    project_id: int
    number: int  # its number: after the last publication's
    ratings_of: int  # the publication that stores the frozen ratings (never a chain)
    old_card: dict  # the figures of the public card it replaces (a change line's "from")
    card: dict | None  # the new public card
    is_working: bool  # the new public card is the project's new working card (the same ratings)
    key: str | None  # the frozen ratings' ratings_key


@dataclass
class ReadChunk:
    """What scoring the chunk needs: its projects and their ratings under the method."""

    methodology: Methodology
    spec: object
    known: set[str]  # the method's criterion codes
    projects: list[SeenProject]
    ratings: dict[int, list[scoring.Rating]]

    @property
    def ids(self) -> list[int]:
        return [project.pk for project in self.projects]


@dataclass
class ScoredChunk:
    """The chunk's new cards, before anything is written."""

    cards: dict[int, dict]  # each project's working card under the method
    new_cards: list[int]  # projects whose working card changes (a new card row each)
    seen_publications: dict[int, int]  # project → the publication read, for those republished
    republications: list[Republication]


def project_id_ranges(chunk: int) -> Iterator[tuple[int, int, int]]:
    """(first id, last id, count) for consecutive chunks of ``chunk`` projects, streamed."""
    ids = Project.objects.order_by("pk").values_list("pk", flat=True)
    batch: list[int] = []
    for pk in ids.iterator(chunk_size=10_000):
        batch.append(pk)
        if len(batch) == chunk:
            yield batch[0], batch[-1], len(batch)
            batch = []
    if batch:
        yield batch[0], batch[-1], len(batch)


def rescore_range(
    *,
    methodology: Methodology,
    first_id: int,
    last_id: int,
    bookkeeping: Callable[[ChunkResult], object] | None = None,
) -> ChunkResult:
    """Rescore the projects with ids first_id..last_id under ``methodology``.

    Optimistic: ratings are read and scored without holding locks, then one short transaction
    locks the projects and writes the cards of every project that nobody rescored or published
    in between; those few are rescored again under the lock.

    ``bookkeeping`` (a job's, services.rescoring) is called last in that transaction, with the
    result: it commits with the cards or not at all (a worker killed in between leaves neither).
    """
    read = _read_chunk(methodology, first_id, last_id)
    if not read.projects:
        if bookkeeping is not None:
            with transaction.atomic():
                bookkeeping(ChunkResult())
        return ChunkResult()
    scored = _score_chunk(read)
    with transaction.atomic():
        result = _write_chunk(read, scored)
        if bookkeeping is not None:
            bookkeeping(result)
    return result


# --- read -------------------------------------------------------------------------------------


def _read_chunk(methodology: Methodology, first_id: int, last_id: int) -> ReadChunk:
    codes = dict(methodology.criteria.values_list("pk", "code"))
    projects = [
        SeenProject(*row)
        for row in Project.objects.filter(pk__gte=first_id, pk__lte=last_id)
        .order_by("pk")
        .values_list(
            "pk",
            "current_score_id",
            "current_score__methodology_id",
            "state",
            "publication_id",
            "publication__methodology_id",
        )
    ]
    read = ReadChunk(methodology, method_spec(methodology), set(codes.values()), projects, defaultdict(list))
    if projects:
        _read_ratings(read, codes, first_id, last_id)
    return read


def _read_ratings(read: ReadChunk, codes: dict[int, str], first_id: int, last_id: int) -> None:
    Rating = scoring.Rating
    # Plain rows: the ORM's per-value converters cost more than the scoring.
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(codes))
        cursor.execute(
            "SELECT project_id, criterion_id, level, evidence_grade, not_applicable "  # noqa: S608
            f"FROM projects_assessment WHERE project_id BETWEEN %s AND %s AND criterion_id IN ({marks})",
            [first_id, last_id, *codes],
        )
        for project_id, criterion_id, level, grade, not_applicable in cursor.fetchall():
            code = codes.get(criterion_id)
            if code is not None:  # a rating under this method
                read.ratings[project_id].append(Rating(code, level, grade or None, bool(not_applicable)))


# --- score ------------------------------------------------------------------------------------


def _score_chunk(read: ReadChunk) -> ScoredChunk:
    method_id = read.methodology.pk
    cards = {pk: scoring.score(read.spec, read.ratings.get(pk, ())).as_dict() for pk in read.ids}
    same_method = [p.card_id for p in read.projects if p.card_id and p.card_method_id == method_id]
    stored = (
        dict(ScoreCard.objects.filter(pk__in=same_method).values_list("pk", "card")) if same_method else {}
    )
    new_cards = [
        p.pk
        for p in read.projects
        if not (p.card_id and p.card_method_id == method_id and stored.get(p.card_id) == cards[p.pk])
    ]
    seen_publications = {p.pk: p.publication_id for p in read.projects if p.public_card_moves(method_id)}
    republications = _republications(read, seen_publications, cards) if seen_publications else []
    return ScoredChunk(cards, new_cards, seen_publications, republications)


def _working_parts(read: ReadChunk, project_id: int) -> list[tuple]:
    return [(r.code, r.level, r.evidence_grade, r.not_applicable) for r in read.ratings.get(project_id, ())]


def _republications(read: ReadChunk, seen_publications: dict[int, int], cards: dict) -> list[Republication]:
    """The automatic publication of each published project whose public card moves to the new
    method."""
    previous = _previous_publications(sorted(set(seen_publications.values())))
    items, unsure = [], {}
    for project_id, publication_id in seen_publications.items():
        number, key, old_card, root = previous[publication_id]
        item = Republication(project_id, number + 1, root, old_card, None, False, key)
        if key and key == ratings_key(_working_parts(read, project_id)):
            # The frozen ratings are the working ones: the same card.
            item.card, item.is_working = cards[project_id], True
            items.append(item)
        else:
            unsure[publication_id] = item
    if unsure:  # read the frozen ratings themselves (a draft differs, or the criteria changed)
        for publication_id, own, repeated in Publication.objects.filter(pk__in=list(unsure)).values_list(
            "pk", "ratings", "ratings_of__ratings"
        ):
            frozen = own if repeated is None else repeated
            items.append(_frozen_scored(read, unsure[publication_id], frozen, cards))
    return items


def _previous_publications(wanted: list[int]) -> dict[int, tuple]:
    """(number, ratings key, old card's figures, ratings' publication) of each publication."""
    previous = {}
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(wanted))
        cursor.execute(
            "SELECT p.id, p.number, p.ratings_key, COALESCE(p.ratings_of_id, p.id), "  # noqa: S608
            "s.net_score, s.grade, s.status, m.version "
            "FROM projects_publication p JOIN projects_scorecard s ON s.id = p.score_id "
            f"JOIN projects_methodology m ON m.id = s.methodology_id WHERE p.id IN ({marks})",
            wanted,
        )
        for pk, number, key, root, net, grade, status, version in cursor.fetchall():
            # The old card's figures from its columns: no need to parse the whole card.
            old_card = {
                "methodology": version,
                "status": status,
                "overall": {"value": net, "grade": grade or None},
            }
            previous[pk] = (number, key, old_card, root)
    return previous


def _frozen_scored(read: ReadChunk, item: Republication, frozen: list[dict], cards: dict) -> Republication:
    """The republication with its card: the frozen ratings scored under the new method."""
    parts = [part for part in scored_parts(frozen) if part[0] in read.known]
    if ratings_key(parts) == ratings_key(_working_parts(read, item.project_id)):
        item.card, item.is_working = cards[item.project_id], True
    else:
        item.card = scoring.score(read.spec, [scoring.Rating(*part) for part in parts]).as_dict()
    item.key = item.key or ratings_key(scored_parts(frozen))
    return item


# --- write ------------------------------------------------------------------------------------


def _write_chunk(read: ReadChunk, scored: ScoredChunk) -> ChunkResult:
    """Inside the chunk's transaction: lock its projects and write what nobody changed since."""
    methodology, ids = read.methodology, read.ids
    locked = {
        pk: (current, publication_id)
        for pk, current, publication_id in Project.objects.select_for_update()
        .filter(pk__in=ids)
        .values_list("pk", "current_score_id", "publication_id")
    }
    seen_card = {p.pk: p.card_id for p in read.projects}
    # Rescored or published by someone else since we read: not ours to overwrite.
    raced = {pk for pk in ids if pk not in locked or locked[pk][0] != seen_card[pk]}
    published_since = {
        pk
        for pk, publication_id in scored.seen_publications.items()
        if pk not in locked or locked[pk][1] != publication_id
    }
    new_cards = [pk for pk in scored.new_cards if pk not in raced]
    # A raced project's public card is still the frozen ratings' card, computed above; it gets
    # its own card row. A project published since is under this method already.
    republications = [item for item in scored.republications if item.project_id not in published_since]
    for item in republications:
        if item.project_id in raced:
            item.is_working = False
    moment = timezone.now()
    card_ids = dict(
        insert_rows(
            ScoreCard,
            CARD_COLUMNS,
            [card_row(pk, methodology.pk, db_moment(moment), scored.cards[pk]) for pk in new_cards],
            returning=("project_id", "id"),
        )
    )
    # A new working card is a change write keys see (changed_at).
    update_projects(
        ["current_score_id", "changed_at"], {pk: (card_ids[pk], db_moment(moment)) for pk in new_cards}
    )
    result = ChunkResult(projects=len(ids), changed=len(new_cards))
    if republications:
        result.republished = _write_republications(methodology, republications, card_ids, moment)
        site_changed()  # public cards moved
        uncertainty_request("method release")  # one run for the whole release (coalesced)
    for pk in sorted(raced & set(locked)):  # the few raced: again, now under the lock
        card = project_rescore(project_id=pk, methodology=methodology)
        if card is not None and card.pk != locked[pk][0]:  # a card this rescoring made
            result.changed += 1
    return result


def _write_republications(methodology, items: list[Republication], card_ids: dict, moment) -> int:
    score_ids = _public_card_ids(methodology, items, card_ids, moment)
    note = AUTOMATIC_NOTE.format(version=methodology.version)
    stamp = db_moment(moment)
    rows = [
        (
            item.project_id,
            item.number,
            stamp,
            None,
            note,
            methodology.pk,
            # The frozen ratings are not written again: the publication repeats those of the
            # publication that stores them (ratings_of; never a chain).
            "[]",
            item.ratings_of,
            item.key,
            score_ids[item.project_id],
            json.dumps(changes_of(before_ratings=[], before_card=item.old_card, ratings=[], card=item.card)),
        )
        for item in items
    ]
    new_ids = insert_rows(Publication, PUBLICATION_COLUMNS, rows, returning=("id", "project_id", "score_id"))
    # Automatic, and the releasing administrator's: no review, so four eyes still see every
    # change made since the last publication by a reviewer.
    releaser = get_user_model().objects.filter(pk=methodology.released_by_id).values("username")[:1]
    Publication.objects.filter(pk__in=[pk for pk, _, _ in new_ids]).update(
        kind=Publication.Kind.REPUBLICATION,
        published_by_id=methodology.released_by_id,
        published_by_name=Coalesce(Subquery(releaser), Value("")),
    )
    cards = {item.project_id: item.card for item in items}
    published = {
        project_id: published_columns(
            publication_id=pk, card_id=score_id, card=cards[project_id], shown_at=stamp
        ).values()
        for pk, project_id, score_id in new_ids
    }
    update_projects(
        [*PUBLISHED_COLUMNS, "updated_at", "changed_at"],
        {project_id: (*values, stamp, stamp) for project_id, values in published.items()},
    )
    return len(rows)


def _public_card_ids(methodology, items: list[Republication], card_ids: dict, moment) -> dict[int, int]:
    """The id of each republication's card: the new working card, the working card that did
    not change (it keeps its id), or a card of its own."""
    # Cards for projects whose draft differs from what was published: one more card each, a
    # moment before the working card, which stays the newest of the history.
    extra = {item.project_id: item.card for item in items if not item.is_working}
    working_times = dict(
        Project.objects.filter(pk__in=list(extra)).values_list("pk", "current_score__computed_at")
    )
    stamps = {
        project_id: min(moment, working_times.get(project_id) or moment) - timedelta(microseconds=1)
        for project_id in extra
    }
    extra_ids = dict(
        insert_rows(
            ScoreCard,
            CARD_COLUMNS,
            [card_row(pk, methodology.pk, db_moment(stamps[pk]), card) for pk, card in extra.items()],
            returning=("project_id", "id"),
        )
    )
    unchanged = [item.project_id for item in items if item.is_working and item.project_id not in card_ids]
    current_ids = dict(Project.objects.filter(pk__in=unchanged).values_list("pk", "current_score_id"))
    return {
        item.project_id: (card_ids.get(item.project_id) or current_ids.get(item.project_id))
        if item.is_working
        else extra_ids[item.project_id]
        for item in items
    }
