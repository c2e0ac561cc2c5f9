"""The uncertainty figures (method §8) and grade changes (§10) readers see: those of the latest
finished run, for the project's current publication only. A project published again after the
run shows none until the next run (queued by that publication) has them: figures computed from
other ratings would contradict its score.

One expression (``uncertainty_expression``) gives them as a JSON object in the query that
reads the projects, for a page of 50 as for one, and ``uncertainty_document`` turns that object
into the public form the API, the exports and the pages share.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.db.models import F, JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject

from projects.models import ProjectUncertainty, UncertaintyRun

GRADE_NAMES = ("A", "B", "C", "D", "E")


def uncertainty_expression(publication: str = "publication_id") -> Subquery:
    """The figures of the project's current publication (``publication``: the outer query's
    path to its id) in the run readers see, as one JSON object; null when there are none."""
    figures = (
        ProjectUncertainty.objects.filter(
            publication_id=OuterRef(publication), run__state=UncertaintyRun.State.DONE
        )
        .order_by(F("run__finished_at").desc(), F("run_id").desc())
        .values(
            json=JSONObject(
                computed_at=F("run__finished_at"),
                scenarios=F("run__scenarios"),
                seed=F("run__seed"),
                projects=F("run__projects"),
                net_p5=F("net_p5"),
                net_median=F("net_median"),
                net_p95=F("net_p95"),
                grades=F("grades"),
                rank=F("rank"),
                rank_p5=F("rank_p5"),
                rank_median=F("rank_median"),
                rank_p95=F("rank_p95"),
                top10=F("top10"),
                stable=F("stable"),
                grade_changes=F("grade_changes"),
            )
        )[:1]
    )
    return Subquery(figures, output_field=JSONField())


def _moment(value) -> datetime:
    """The run's finish as the database wrote it into the object: ISO text in UTC (PostgreSQL
    writes "+00:00", SQLite a naive UTC text)."""
    moment = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json(value):
    """A JSON column inside the object: SQLite nests it as its text."""
    return json.loads(value) if isinstance(value, str) else value


def uncertainty_document(stored: dict | None) -> dict | None:
    """The public form of a project's figures (API, exports, pages): §8 with the run's K, seed
    and finish; None when there are none."""
    if not stored:
        return None
    grades = _json(stored["grades"])
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
        for change in _json(stored["grade_changes"])
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
