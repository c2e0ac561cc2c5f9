"""Writing many rows at once, in plain SQL rather than ``bulk_create`` (Django's per-field
conversion dominates at 100,000 cards): multi-row statements on SQLite, COPY on PostgreSQL.
The rescoring and ``generate_projects`` write their cards, publications and project columns
through here; values are given as the database stores them (``db_moment`` for date-times).
"""

from __future__ import annotations

import itertools
import json

from django.db import connection, transaction

from projects.models import Project
from projects.models.scores import CARD_FIGURES, card_columns

CARD_COLUMNS = ["project_id", "methodology_id", "computed_at", "card", *CARD_FIGURES]
PUBLICATION_COLUMNS = [
    "project_id",
    "number",
    "published_at",
    "published_by_id",
    "note",
    "methodology_id",
    "ratings",
    "ratings_of_id",
    "ratings_key",
    "score_id",
    "changes",
]


def db_moment(value):
    """A date-time as the database backend stores it (raw SQL skips the field's conversion)."""
    return connection.ops.adapt_datetimefield_value(value)


def card_row(project_id: int, methodology_id: int, stamp, card: dict) -> tuple:
    """The INSERT values of a card (``stamp``: its time, already adapted by ``db_moment``)."""
    return (project_id, methodology_id, stamp, json.dumps(card), *card_columns(card).values())


MAX_PARAMETERS = 5000  # per statement on SQLite: well under its limit


def insert_rows(model, columns: list[str], rows: list[tuple], returning: tuple[str, ...] = ()) -> list:
    """INSERT many rows of ``model``'s table; with ``returning``, those columns of the inserted
    rows (in no particular order; "id" among them).

    SQLite: a few hundred rows per statement. PostgreSQL: COPY, with the ids drawn from the
    table's sequence first when they are asked for (parsing and quoting the parameters of large
    INSERTs cost the driver more than PostgreSQL's own work).
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy_rows(model, columns, rows, returning)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    back = f" RETURNING {', '.join(quote(column) for column in returning)}" if returning else ""
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    inserted = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            marks = ", ".join([row_marks] * len(batch))
            # Table and column names are the models' own, never input; values are parameters.
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {marks}{back}",  # noqa: S608
                [value for row in batch for value in row],
            )
            if returning:
                inserted += cursor.fetchall()
    return inserted


def _copy_rows(model, columns: list[str], rows: list[tuple], returning: tuple[str, ...]) -> list:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            columns, rows = ["id", *columns], [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
        names = ", ".join(quote(column) for column in columns)
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    if not returning:
        return []
    positions = [columns.index(column) for column in returning]
    return [tuple(row[position] for position in positions) for row in rows]


_scratch_numbers = itertools.count()


def update_projects(columns: list[str], rows: dict[int, tuple]) -> None:
    """Set ``columns`` of many projects (id → values), each found by its primary key: UPDATE …
    FROM a list of values, a few hundred projects a statement on SQLite (3.33+); on PostgreSQL
    the values are copied into a temporary table first (see insert_rows)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Project._meta.db_table)
    aliases = ["k", *(f"c{index}" for index in range(len(columns)))]
    assignments = ", ".join(f"{quote(column)} = v.c{index}" for index, column in enumerate(columns))
    # Names are the model's own, never input; values are parameters.
    update = f"UPDATE {table} SET {assignments} FROM {{source}} WHERE {table}.{quote('id')} = v.k"  # noqa: S608
    values = [(pk, *row) for pk, row in rows.items()]
    if connection.vendor == "postgresql":
        fields = {field.column: field for field in Project._meta.concrete_fields}
        kinds = [fields[column].cast_db_type(connection) for column in ["id", *columns]]
        declared = ", ".join(f"{alias} {kind}" for alias, kind in zip(aliases, kinds, strict=True))
        # A table of its own for each call, gone at the end of the transaction.
        scratch = f"sdgscore_project_update_{next(_scratch_numbers)}"
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} ({declared}) ON COMMIT DROP")
            with cursor.cursor.copy(f"COPY {scratch} ({', '.join(aliases)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            # The ids' range too: else PostgreSQL may hash-join against every project.
            cursor.execute(
                update.format(source=f"{scratch} AS v") + f" AND {table}.{quote('id')} BETWEEN %s AND %s",
                [min(rows), max(rows)],
            )
        return
    with connection.cursor() as cursor:
        # SQLite names a VALUES list's columns column1, column2, …: renamed in a subquery.
        renamed = ", ".join(f"column{number} AS {alias}" for number, alias in enumerate(aliases, 1))
        row_marks = "(" + ", ".join(["%s"] * len(aliases)) + ")"
        per_statement = max(1, MAX_PARAMETERS // len(aliases))
        for start in range(0, len(values), per_statement):
            batch = values[start : start + per_statement]
            marks = ", ".join([row_marks] * len(batch))
            cursor.execute(
                update.format(source=f"(SELECT {renamed} FROM (VALUES {marks})) AS v"),  # noqa: S608
                [value for row in batch for value in row],
            )


def statistics_refresh(model) -> None:
    """After a bulk load into ``model``'s table, tell PostgreSQL's planner about the new rows
    (ANALYZE) rather than wait for autovacuum. Planned without them, the rescoring's read of a
    new method's ratings (project range and criteria) takes the criterion index, as if the
    method had no ratings, and reads every rating of the method for each chunk. SQLite plans
    that read well without statistics."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
