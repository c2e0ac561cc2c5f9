"""The uncertainty figures (method §8) and grade changes (§10) readers see: those of the latest
finished run, for the project's current publication only. A project published again after the
run shows none until the next run (queued by that publication) has them: figures computed from
other ratings would contradict its score.

One expression (``uncertainty_expression``) gives them as a JSON object in the query that
reads the projects, for a page of 50 as for one, and ``uncertainty_document`` turns that object
into the public form the API, the exports and the pages share.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache

import orjson
from django.db.models import Expression, F, TextField

from projects.models import ProjectUncertainty, UncertaintyRun

GRADE_NAMES = ("A", "B", "C", "D", "E")


FIGURE_KEYS = (
    ("computed_at", "r", "finished_at"),
    ("scenarios", "r", "scenarios"),
    ("seed", "r", "seed"),
    ("projects", "r", "projects"),
    ("net_p5", "u", "net_p5"),
    ("net_median", "u", "net_median"),
    ("net_p95", "u", "net_p95"),
    ("grades", "u", "grades"),
    ("rank", "u", "rank"),
    ("rank_p5", "u", "rank_p5"),
    ("rank_median", "u", "rank_median"),
    ("rank_p95", "u", "rank_p95"),
    ("top10", "u", "top10"),
    ("stable", "u", "stable"),
    ("grade_changes", "u", "grade_changes"),
)


@cache
def _figures_sql(vendor: str, quote: Callable[[str], str]) -> str:
    """The subquery's text, with one place (``{outer}``) for the outer query's publication id.
    Written once per database: compiling the same subquery from the ORM for every request cost
    the project page and API detail about 2 ms each."""
    postgresql = vendor == "postgresql"
    build = "JSONB_BUILD_OBJECT" if postgresql else "JSON_OBJECT"
    # SQLite would nest the JSON columns as strings (each parsed again): JSON() nests them as JSON.
    nested = "{}" if postgresql else "JSON({})"
    pairs = ", ".join(
        f"'{key}', {(nested if key in JSON_KEYS else '{}').format(f'{table}.{quote(column)}')}"
        for key, table, column in FIGURE_KEYS
    )
    figures, runs = quote(ProjectUncertainty._meta.db_table), quote(UncertaintyRun._meta.db_table)
    # Names and keys are the models' own, never input; the state is a parameter.
    # As text on both (parsed by orjson, FiguresField): psycopg would parse jsonb with json.loads.
    return (
        f"(SELECT {build}({pairs}){'::text' if postgresql else ''} FROM {figures} u"  # noqa: S608
        f" INNER JOIN {runs} r ON u.{quote('run_id')} = r.{quote('id')}"
        f" WHERE u.{quote('publication_id')} = ({{outer}}) AND r.{quote('state')} = %s"
        f" ORDER BY r.{quote('finished_at')} DESC, u.{quote('run_id')} DESC LIMIT 1)"
    )


JSON_KEYS = {"grades", "grade_changes"}


class FiguresField(TextField):
    """The figures' JSON object as the database writes it, parsed with orjson (several times
    faster than json for the 50 objects of an API page)."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else orjson.loads(value)


class UncertaintyObject(Expression):
    """The figures of the project's current publication in the run readers see, as one JSON
    object (null when there are none): the latest finished run's row for that publication.
    The outer reference is an ordinary expression, so it follows the outer query's aliases."""

    output_field = FiguresField()

    def __init__(self, publication: str = "publication_id") -> None:
        super().__init__()
        self.publication = F(publication)

    def get_source_expressions(self):
        return [self.publication]

    def set_source_expressions(self, expressions) -> None:
        (self.publication,) = expressions

    def as_sql(self, compiler, connection):
        outer, params = compiler.compile(self.publication)
        sql = _figures_sql(connection.vendor, connection.ops.quote_name).replace("{outer}", outer)
        return sql, (*params, UncertaintyRun.State.DONE.value)


def uncertainty_expression(publication: str = "publication_id") -> UncertaintyObject:
    """The figures of the project's current publication (``publication``: the outer query's
    path to its id) in the run readers see, as one JSON object; null when there are none."""
    return UncertaintyObject(publication)


@lru_cache(maxsize=16)
def _moment(value) -> datetime:
    """The run's finish as the database wrote it into the object: ISO text in UTC (PostgreSQL
    writes "+00:00", SQLite a naive UTC text). The same few runs' for every row: kept."""
    moment = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def uncertainty_document(stored: dict | None) -> dict | None:
    """The public form of a project's figures (API, exports, pages): §8 with the run's K, seed
    and finish; None when there are none."""
    if not stored:
        return None
    grades = stored["grades"]
    return {
        "computed_at": _moment(stored["computed_at"]),
        "scenarios": stored["scenarios"],
        "seed": stored["seed"],
        # PostgreSQL's JSON writes 35.0 as 35: floats again.
        "net": {key: float(stored[f"net_{key}"]) for key in ("median", "p5", "p95")},
        "grades": {name: float(grades.get(name, 0.0)) for name in GRADE_NAMES},
        "rank": {
            "published": stored.get("rank"),
            "median": stored["rank_median"],
            "p5": stored["rank_p5"],
            "p95": stored["rank_p95"],
            "of": stored["projects"],
        },
        "top10": float(stored["top10"]),
        "stable": bool(stored["stable"]),
    }


def grade_changes_document(stored: dict | None) -> list[dict] | None:
    """§10 as stored with the figures: each one-level change that changes the grade; None when
    there are no figures."""
    if not stored:
        return None
    return [
        {
            "criterion": change["criterion"],
            "from": change["from"],
            "to": change["to"],
            "net": float(change["net"]),
            "grade": change["grade"],
        }
        for change in stored["grade_changes"]
    ]


def rank_intervals(publication_ids) -> dict[int, tuple[int, int, int]]:
    """The rank's 90% interval and median (p5, median, p95) of each of these publications that
    has figures in the run readers see, by publication id: one query for a page of a ranking."""
    ids = [pk for pk in publication_ids if pk is not None]
    if not ids:
        return {}
    rows = ProjectUncertainty.objects.filter(
        publication_id__in=ids, run__state=UncertaintyRun.State.DONE
    ).values_list("publication_id", "rank_p5", "rank_median", "rank_p95")
    return {publication: (low, median, high) for publication, low, median, high in rows}
