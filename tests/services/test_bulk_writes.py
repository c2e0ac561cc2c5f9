"""The bulk writers of the rescoring and generate_projects (projects.services.bulk: insert_rows
and update_projects): many rows per statement on SQLite, COPY on PostgreSQL; the same rows
either way."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import transaction

from projects.models import Methodology, Project, ScoreCard
from projects.services.bulk import (
    CARD_COLUMNS,
    MAX_PARAMETERS,
    card_row,
    db_moment,
    insert_rows,
    update_projects,
)

pytestmark = pytest.mark.django_db

# More projects than one SQLite statement takes, so the writers' batching is crossed.
COUNT = MAX_PARAMETERS // 4 + 7


@pytest.fixture
def projects():
    call_command("generate_projects", str(COUNT), "--seed", "5", stdout=io.StringIO(), stderr=io.StringIO())
    return list(Project.objects.order_by("pk"))


def a_card(net: float) -> dict:
    card = ScoreCard.objects.order_by("pk").first().card
    return {**card, "overall": {**card["overall"], "value": net}}


def test_inserted_cards_come_back_with_their_own_ids(projects):
    methodology = Methodology.objects.get()
    moment = datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC)
    rows = [
        card_row(p.pk, methodology.pk, db_moment(moment), a_card(float(i))) for i, p in enumerate(projects)
    ]
    ids = dict(insert_rows(ScoreCard, CARD_COLUMNS, rows, returning=("project_id", "id")))
    assert set(ids) == {p.pk for p in projects}
    stored = {card.pk: card for card in ScoreCard.objects.filter(pk__in=ids.values())}
    assert len(stored) == COUNT
    for index, project in enumerate(projects):
        card = stored[ids[project.pk]]
        assert card.project_id == project.pk
        assert card.computed_at == moment
        assert card.card["overall"]["value"] == float(index)
        assert card.net_score == float(index)  # the figure columns follow the card


def test_projects_get_exactly_the_values_given_and_others_keep_theirs(projects):
    chosen, untouched = projects[:-3], projects[-3:]
    moment = datetime(2026, 11, 24, 10, 0, 0, 5, tzinfo=UTC)
    before = {p.pk: (p.publication_id, p.published_at) for p in untouched}
    update_projects(
        ["publication_id", "published_at", "updated_at"],
        {p.pk: (None, None if p.pk % 2 else db_moment(moment), db_moment(moment)) for p in chosen},
    )
    for project in Project.objects.filter(pk__in=[p.pk for p in chosen]):
        assert project.publication_id is None
        assert project.published_at == (None if project.pk % 2 else moment)
        assert project.updated_at == moment
    for project in Project.objects.filter(pk__in=[p.pk for p in untouched]):
        assert (project.publication_id, project.published_at) == before[project.pk]


def test_two_updates_in_one_transaction_and_a_column_of_nulls_only(projects):
    cards = {
        pk: (card, net)
        for pk, card, net in Project.objects.values_list("pk", "current_score_id", "current_score__net_score")
    }
    first = list(cards)[:10]
    with transaction.atomic():
        update_projects(["published_score_id", "published_net"], {pk: (None, None) for pk in cards})
        update_projects(["published_score_id", "published_net"], {pk: cards[pk] for pk in first})
    stored = {
        pk: (card, net)
        for pk, card, net in Project.objects.values_list("pk", "published_score_id", "published_net")
    }
    assert [stored[pk] for pk in first] == [cards[pk] for pk in first]
    assert all(stored[pk] == (None, None) for pk in list(cards)[10:])


def test_a_failed_update_changes_nothing(projects):
    before = dict(Project.objects.values_list("pk", "current_score_id"))
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017,PT011 -- the database's own error
        update_projects(["current_score_id"], {pk: (10**9,) for pk in before})  # no such cards
    assert dict(Project.objects.values_list("pk", "current_score_id")) == before
