"""The API's projects as rows: one column map gives the columns read, the JSON written and the
OpenAPI schema (projects.api.serializers declares the map's fields).

Projects are read as ``values()`` rows, never as model instances: DRF's field machinery, model
instances and re-encoding the stored cards cost more than the database for a page of 50. What is
stored as JSON (the cards, the resources and the links) is read as its stored text and spliced
into the response unparsed (``orjson.Fragment``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from django.db.models import Expression, F, QuerySet, TextField
from django.db.models.functions import Cast
from rest_framework import serializers

from projects.models import Operator, Publication
from projects.models.projects import is_illustrative
from projects.selectors.uncertainty import (
    grade_changes_document,
    uncertainty_document,
    uncertainty_expression,
)
from projects.selectors.working import operator_summary
from projects.vocabularies import Resource

from .score_card import GradeChangesField, ScoreCardField, UncertaintyField

OPERATOR_KEYS = ("slug", "name", "country", "kind")


@dataclass(frozen=True)
class Column:
    """One key of a project's representation: what it reads and how it is written.

    ``paths`` are read as they are, ``expressions`` under their aliases; ``schema`` is the field
    the OpenAPI schema shows (None: the model field of the same name); ``drafts`` columns are
    read only for clients who see drafts, and are null to the others.
    """

    key: str
    write: Callable[[dict], object] | None  # None: the row's value under the key, as it is
    schema: serializers.Field | None = None
    paths: tuple[str, ...] = ()
    expressions: dict[str, Expression] = field(default_factory=dict)
    drafts: bool = False


def utc_text(moment: datetime | None) -> str | None:
    """A date-time as the API writes it: ISO 8601 in UTC, with Z."""
    if moment is None:
        return None
    text = moment.isoformat()
    if text.endswith("+00:00"):  # as the database gives it
        return text[:-6] + "Z"
    return utc_text(moment.astimezone(UTC))


def _fragment(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text)


def _plain(key: str) -> Column:
    return Column(key, None, paths=(key,))


def _date_time(key: str, schema: serializers.Field | None = None) -> Column:
    return Column(key, lambda row: utc_text(row[key]), schema, paths=(key,))


def _stored_json(key: str, path: str, schema: serializers.Field, *, drafts: bool = False) -> Column:
    alias = f"{key}_json"
    return Column(
        key,
        lambda row: _fragment(row.get(alias)),
        schema,
        expressions={alias: Cast(path, TextField())},
        drafts=drafts,
    )


class OperatorSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Operator
        fields = list(OPERATOR_KEYS)


PROJECT_COLUMNS = (
    _plain("slug"),
    _plain("name"),
    Column(
        "operator",
        lambda row: {key: row[f"operator__{key}"] for key in OPERATOR_KEYS},
        OperatorSummarySerializer(read_only=True),
        paths=tuple(f"operator__{key}" for key in OPERATOR_KEYS),
    ),
    _plain("target_body"),
    _stored_json(
        "resources",
        "resources",
        serializers.ListField(child=serializers.ChoiceField(choices=Resource.choices)),
    ),
    _plain("phase"),
    _plain("launch_year"),
    _plain("summary"),
    _plain("summary_ja"),
    _stored_json("links", "links", serializers.ListField(child=serializers.URLField())),
    _plain("origin"),
    Column(
        "illustrative",
        lambda row: is_illustrative(row["origin"]),
        serializers.BooleanField(read_only=True, help_text="The ratings are demo or synthetic data."),
        paths=("origin",),
    ),
    _plain("state"),
    _date_time("published_at"),
    _date_time(
        "updated_at",
        serializers.DateTimeField(
            read_only=True,
            help_text="The last change of what you see of the project: for the public and read keys, "
            "its publication, withdrawal or operator; for write keys also every change of its drafts "
            "and working ratings. `updated_since` and the sync's order use the same date.",
        ),
    ),
    _stored_json(
        "score",
        "published_score__card",
        ScoreCardField(
            default=None,
            help_text="The card as last published: analysts' later edits wait for a reviewer.",
        ),
    ),
    _stored_json(
        "draft_score",
        "current_score__card",
        ScoreCardField(
            help_text="Write-scope keys only (null otherwise): the working card, computed from the ratings "
            "as they stand now, published or not."
        ),
        drafts=True,
    ),
)


def _uncertainty(row: dict) -> dict | None:
    document = uncertainty_document(row.get("uncertainty_stored"))
    if document is not None:
        document["computed_at"] = utc_text(document["computed_at"])
    return document


# Both read the one object the run stored for the project's current publication.
UNCERTAINTY_READ = {"uncertainty_stored": uncertainty_expression()}
PROJECT_COLUMNS += (
    Column(
        "uncertainty",
        _uncertainty,
        UncertaintyField(
            help_text="How far the net score, grade and rank could move (method §8), from the last "
            "uncertainty run. Null for projects without a net score, and for a project published "
            "again since that run until the next one (queued by the publication) has its figures."
        ),
        expressions=UNCERTAINTY_READ,
    ),
    Column(
        "grade_changes",
        lambda row: grade_changes_document(row.get("uncertainty_stored")),
        GradeChangesField(
            help_text="Every change of one rating by one level that would change the grade, with the net "
            "score and grade it would give: better grades first, then by the size of the change "
            "(method §10). Empty when none would; null when `uncertainty` is."
        ),
        expressions=UNCERTAINTY_READ,
    ),
)
_WRITERS = tuple((column.key, column.write) for column in PROJECT_COLUMNS)
# Read besides, for clients who see drafts: the facts waiting for publication, and the last
# change they can see (``changed_at``, shown as their ``updated_at``).
DRAFT_READS = {"draft_facts": F("pending_facts")}
DRAFT_PATHS = ("changed_at",)


def project_schema_fields() -> dict[str, serializers.Field]:
    """The fields the schema shows for the columns that are not the model's own."""
    return {column.key: column.schema for column in PROJECT_COLUMNS if column.schema is not None}


def project_rows(projects: QuerySet, *, drafts: bool, extra: tuple[str, ...] = ()) -> QuerySet:
    """The selection as rows for ``project_representation`` (with ``extra`` columns besides,
    and always the primary key)."""
    paths, expressions = {"pk": None}, {}
    for column in PROJECT_COLUMNS:
        if drafts or not column.drafts:
            paths.update(dict.fromkeys(column.paths))
            expressions.update(column.expressions)
    if drafts:
        expressions.update(DRAFT_READS)
        paths.update(dict.fromkeys(DRAFT_PATHS))
    paths.update(dict.fromkeys(extra))
    return projects.values(*paths, **expressions)


def project_representation(row: dict) -> dict:
    """A project as the API serves it, from a row of ``project_rows``. To a client who sees
    drafts, the facts waiting for publication are shown over the published ones, and
    ``updated_at`` is the last change they can see (a working rating's included)."""
    if row.get("draft_facts"):
        row = _with_pending_facts(row)
    if "changed_at" in row:
        row = {**row, "updated_at": row["changed_at"]}
    return {key: row[key] if write is None else write(row) for key, write in _WRITERS}


def _with_pending_facts(row: dict) -> dict:
    """The row with its project's draft facts over the published ones. The slug stays the
    published one: it is the project's address until a rename is published."""
    row = dict(row)
    for key, value in row["draft_facts"].items():
        if key == "slug":
            continue
        if key == "operator":
            operator = operator_summary(value)
            row.update({f"operator__{name}": operator[name] for name in OPERATOR_KEYS})
        elif key in ("resources", "links"):
            row[f"{key}_json"] = orjson.dumps(value).decode()
        else:
            row[key] = value
    return row


def is_tombstone(row: dict) -> bool:
    """A project withdrawn from publication, in the sync list of a client who sees published
    data only: gone from public view, so a partner's copy should go too."""
    withdrawn = row.get("publication__kind") == Publication.Kind.WITHDRAWAL and row["state"] != "published"
    return withdrawn and "draft_facts" not in row  # read for clients who see drafts only


def tombstone_representation(row: dict) -> dict:
    return {
        "slug": row["slug"],
        "state": "withdrawn",
        "withdrawn": True,
        "updated_at": utc_text(row["updated_at"]),
    }
