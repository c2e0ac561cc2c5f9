"""python manage.py generate_projects N [--seed S] [--draft]: synthetic projects for benchmarks.

Each project is marked ``"origin": "synthetic"`` (labelled as such on every page and in the
API), rated on a realistic mix — most criteria rated with a spread of levels and evidence
grades, some not applicable, some still missing — scored by the engine and, unless ``--draft``,
published with a note. Written in bulk, chunk by chunk, so that 100,000 take a minute or two
rather than hours; the cards are exactly what the engine computes from the stored ratings.
"""

import json
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from projects import scoring
from projects.freshness import site_changed
from projects.models import Assessment, Operator, Project, Publication, ScoreCard
from projects.models.operators import operator_slug
from projects.selectors import criteria_of, methodology_current
from projects.services.bulk import (
    CARD_COLUMNS,
    PUBLICATION_COLUMNS,
    card_row,
    db_moment,
    insert_rows,
    update_projects,
)
from projects.services.publication import assessment_record, changes_of, ratings_key, scored_parts
from projects.services.published import PUBLISHED_COLUMNS, published_columns
from projects.services.scoring import method_spec
from projects.vocabularies import OperatorKind, Origin, Phase, PublicationState, Resource, TargetBody

CHUNK = 1000
ASSESSMENT_COLUMNS = [
    "project_id",
    "criterion_id",
    "level",
    "not_applicable",
    "justification",
    "evidence_grade",
    "source_url",
    "assessed_by_id",
    "created_at",
    "updated_at",
]
NOTE = "Synthetic benchmark data, published by generate_projects."
COUNTRIES = ["JP", "US", "LU", "IN", "CN", "FR", "DE", "AE", "GB", "KR", "CA", "AU"]
# How often a criterion is rated, not applicable or still missing; and the level mixes by kind.
MISSING, NOT_APPLICABLE = 0.08, 0.04
IMPACT_LEVELS, RISK_LEVELS = [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]
IMPACT_WEIGHTS, RISK_WEIGHTS = [10, 25, 35, 22, 8], [20, 35, 28, 13, 4]
GRADES, GRADE_WEIGHTS = ["A", "B", "C", "D"], [15, 40, 30, 15]
SYNTHETIC_SOURCE = "https://example.org/synthetic-evidence"  # never a real page: marked synthetic


class Command(BaseCommand):
    help = "Create N synthetic projects (origin synthetic) with realistic ratings, in bulk, for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="how many projects to create (1–1,000,000)")
        parser.add_argument(
            "--seed", type=int, default=2026, help="random seed (the same seed, the same data)"
        )
        parser.add_argument("--draft", action="store_true", help="leave them unpublished")

    def handle(self, *args, count, seed, draft, **options):
        if not 1 <= count <= 1_000_000:
            raise CommandError(f"count: give a number from 1 to 1000000, not {count}.")
        methodology = methodology_current()
        if methodology is None:
            raise CommandError("No published methodology version: nothing can be scored.")
        criteria = list(criteria_of(methodology))
        spec = method_spec(methodology)
        rng = random.Random(seed)  # noqa: S311 -- reproducible benchmark data, not secrets
        operators = self._operators(rng)
        start = Project.objects.filter(origin=Origin.SYNTHETIC).count()
        began = time.monotonic()
        made = 0
        while made < count:
            size = min(CHUNK, count - made)
            with transaction.atomic():
                self._chunk(
                    rng, start + made, size, operators, methodology, criteria, spec, publish=not draft
                )
            made += size
            rate = made / max(time.monotonic() - began, 1e-9)
            self.stderr.write(f"\r{made}/{count} projects ({rate:,.0f}/s)", ending="")
            self.stderr.flush()
        self.stderr.write("")
        site_changed()  # written in bulk, without signals
        if connection.vendor == "postgresql":
            # What autovacuum does only later (or, where it is off, never): statistics for the
            # planner (without them a page of a list read every match's card) and the visibility
            # map (without it, counting the projects reads every row).
            with connection.cursor() as cursor:
                # VACUUM cannot run inside a transaction (a caller's, as in the tests).
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(
            f"Created {count} synthetic projects ({'drafts' if draft else 'published'}) "
            f"in {time.monotonic() - began:.1f} s."
        )

    def _operators(self, rng) -> list[Operator]:
        # Written in bulk like the projects: benchmark data, no one's change to attribute.
        wanted = {}
        for index in range(40):
            name = f"Synthetic Operator {index + 1:02d}"
            kind = rng.choice(OperatorKind.values)  # drawn for each, as before: the same data
            wanted[name] = Operator(name=name, country=COUNTRIES[index % len(COUNTRIES)], kind=kind)
            wanted[name].slug = operator_slug(name, lambda slug: Operator.objects.filter(slug=slug).exists())
        existing = {operator.name: operator for operator in Operator.objects.filter(name__in=wanted)}
        Operator.objects.bulk_create([operator for name, operator in wanted.items() if name not in existing])
        stored = {operator.name: operator for operator in Operator.objects.filter(name__in=wanted)}
        return [stored[name] for name in wanted]

    def _chunk(self, rng, offset, size, operators, methodology, criteria, spec, *, publish: bool) -> None:
        now = timezone.now()
        projects = []
        for number in range(offset + 1, offset + size + 1):
            projects.append(
                Project(
                    slug=f"synthetic-{number:07d}",
                    name=f"Synthetic project {number:07d}",
                    operator=rng.choice(operators),
                    target_body=rng.choice(TargetBody.values),
                    resources=sorted(rng.sample(Resource.values, rng.randint(1, 3))),
                    phase=rng.choice(Phase.values),
                    launch_year=rng.randint(2020, 2045),
                    summary="A synthetic project generated for benchmarks; its ratings are random.",
                    origin=Origin.SYNTHETIC,
                    state=PublicationState.PUBLISHED if publish else PublicationState.DRAFT,
                )
            )
        Project.objects.bulk_create(projects)
        assessments, cards, snapshots = [], [], []
        for project in projects:
            ratings, rows = [], []
            for criterion in criteria:
                draw = rng.random()
                if draw < MISSING:
                    continue
                risk = criterion.dimension in ("debris", "equity")
                if draw < MISSING + NOT_APPLICABLE:
                    row = Assessment(
                        project=project,
                        criterion=criterion,
                        not_applicable=True,
                        level=None,
                        justification="Synthetic: not applicable to this project.",
                    )
                    ratings.append(scoring.Rating(criterion.code, None, None, True))
                else:
                    level = rng.choices(
                        RISK_LEVELS if risk else IMPACT_LEVELS, RISK_WEIGHTS if risk else IMPACT_WEIGHTS
                    )[0]
                    grade = rng.choices(GRADES, GRADE_WEIGHTS)[0]
                    row = Assessment(
                        project=project,
                        criterion=criterion,
                        level=level,
                        evidence_grade=grade,
                        justification="Synthetic rating for benchmarks.",
                        # Grades A and B cite a source, as the rating rules ask (rating_errors).
                        source_url=SYNTHETIC_SOURCE if grade in ("A", "B") else "",
                    )
                    ratings.append(scoring.Rating(criterion.code, level, grade, False))
                row.updated_at = now
                rows.append(row)
            assessments += rows
            card = scoring.score(spec, ratings).as_dict()
            cards.append(ScoreCard.from_card(project_id=project.pk, methodology=methodology, card=card))
            snapshots.append([{**assessment_record(row), "updated_at": now.isoformat()} for row in rows])
        # Plain SQL (COPY on PostgreSQL): the same rows as bulk_create, several times faster.
        stamp = db_moment(now)
        insert_rows(
            Assessment,
            ASSESSMENT_COLUMNS,
            [
                (
                    row.project.pk,
                    row.criterion.pk,
                    row.level,
                    row.not_applicable,
                    row.justification,
                    row.evidence_grade,
                    row.source_url,
                    None,
                    stamp,
                    stamp,
                )
                for row in assessments
            ],
        )
        card_ids = dict(
            insert_rows(
                ScoreCard,
                CARD_COLUMNS,
                [card_row(card.project_id, methodology.pk, stamp, card.card) for card in cards],
                returning=("project_id", "id"),
            )
        )
        publication_ids = {}
        if publish:
            publication_ids = insert_rows(
                Publication,
                PUBLICATION_COLUMNS,
                [
                    (
                        card.project_id,
                        1,
                        stamp,
                        None,
                        NOTE,
                        methodology.pk,
                        json.dumps(snapshot),
                        None,
                        ratings_key(scored_parts(snapshot)),
                        card_ids[card.project_id],
                        json.dumps(
                            changes_of(
                                before_ratings=None, before_card=None, ratings=snapshot, card=card.card
                            )
                        ),
                    )
                    for card, snapshot in zip(cards, snapshots, strict=True)
                ],
                returning=("project_id", "id"),
            )
        publication_ids = dict(publication_ids)
        rows = {}
        for card in cards:
            published = (
                published_columns(
                    publication_id=publication_ids[card.project_id],
                    card_id=card_ids[card.project_id],
                    card=card.card,
                    shown_at=stamp,
                )
                if publish
                else dict.fromkeys(PUBLISHED_COLUMNS)
            )
            rows[card.project_id] = (card_ids[card.project_id], *published.values())
        update_projects(["current_score_id", *PUBLISHED_COLUMNS], rows)
