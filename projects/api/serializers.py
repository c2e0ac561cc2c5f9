"""Representations of the API's resources (reads). Writes are validated by the interchange
schema (projects.interchange.schema), the same rules as the importer and the admin."""

from datetime import UTC, datetime

import orjson
from django.db import connections
from django.db.models import F, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import translation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.changes import change_line
from projects.interchange.schema import AssessmentRecord, ProjectRecord
from projects.models import Assessment, Criterion, Methodology, Operator, Project, Publication
from projects.models.projects import is_illustrative
from projects.vocabularies import EvidenceGrade, Resource

from .score_card import ScoreCardField, ScoreCardSchemaOrNull


class OperatorSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Operator
        fields = ["slug", "name", "country", "kind"]


class OperatorSerializer(serializers.ModelSerializer):
    project_count = serializers.IntegerField(read_only=True, help_text="Published projects.")

    class Meta:
        model = Operator
        fields = ["slug", "name", "country", "kind", "project_count"]


class ProjectSerializer(serializers.ModelSerializer):
    operator = OperatorSummarySerializer(read_only=True)
    resources = serializers.ListField(child=serializers.ChoiceField(choices=Resource.choices))
    links = serializers.ListField(child=serializers.URLField())
    illustrative = serializers.BooleanField(
        source="is_illustrative", read_only=True, help_text="The ratings are demo or synthetic data."
    )
    score = ScoreCardField(
        source="published_score.card",
        default=None,
        help_text="The card as last published: analysts' later edits wait for a reviewer.",
    )
    draft_score = serializers.SerializerMethodField(
        help_text="Write-scope keys only (null otherwise): the working card, computed from the ratings "
        "as they stand now, published or not."
    )

    class Meta:
        model = Project
        fields = [
            "slug",
            "name",
            "operator",
            "target_body",
            "resources",
            "phase",
            "launch_year",
            "summary",
            "summary_ja",
            "links",
            "origin",
            "illustrative",
            "state",
            "published_at",
            "updated_at",
            "score",
            "draft_score",
        ]

    def to_representation(self, row) -> dict:
        """The representation the fields above declare (and the schema describes), built directly
        from a row of ``project_rows`` (DRF's field machinery, model instances and re-encoding
        the stored cards cost more than the database for a page of 50). The cards are spliced
        into the JSON as stored."""
        published, working = row["score_json"], row.get("draft_json")
        if row.get("draft_facts"):  # a client who sees drafts sees the draft facts
            row = _with_pending_facts(row)
        return {
            "slug": row["slug"],
            "name": row["name"],
            "operator": {
                "slug": row["operator__slug"],
                "name": row["operator__name"],
                "country": row["operator__country"],
                "kind": row["operator__kind"],
            },
            "target_body": row["target_body"],
            "resources": orjson.Fragment(row["resources_json"]),
            "phase": row["phase"],
            "launch_year": row["launch_year"],
            "summary": row["summary"],
            "summary_ja": row["summary_ja"],
            "links": orjson.Fragment(row["links_json"]),
            "origin": row["origin"],
            "illustrative": is_illustrative(row["origin"]),
            "state": row["state"],
            "published_at": _moment(row["published_moment"]),
            "updated_at": _moment(row["updated_moment"]),
            "score": None if published is None else orjson.Fragment(published),
            "draft_score": None if working is None else orjson.Fragment(working),
        }

    @extend_schema_field(ScoreCardSchemaOrNull)
    def get_draft_score(self, row) -> dict | None:
        """(For the schema: to_representation fills it from the row.)"""


PROJECT_COLUMNS = (
    "pk",
    "slug",
    "name",
    "operator__slug",
    "operator__name",
    "operator__country",
    "operator__kind",
    "target_body",
    "phase",
    "launch_year",
    "summary",
    "summary_ja",
    "origin",
    "state",
)


def project_rows(projects: QuerySet, *, drafts: bool, extra: tuple[str, ...] = ()) -> QuerySet:
    """The selection as rows for ProjectSerializer. What is stored as JSON (the published card,
    the working card for clients who see drafts as ``draft_json``, the resources and links) comes
    as its stored text, to be spliced into the response unparsed; on SQLite the dates too (they
    are stored as ISO 8601 text in UTC): converting them costs more than the query."""

    def text(name):
        return Cast(name, TextField())

    def moment(name):
        return text(name) if connections[projects.db].vendor == "sqlite" else F(name)

    columns = {
        "score_json": text("published_score__card"),
        "resources_json": text("resources"),
        "links_json": text("links"),
        "published_moment": moment("published_at"),
        "updated_moment": moment("updated_at"),
    }
    if drafts:
        columns["draft_json"] = text("current_score__card")
        columns["draft_facts"] = F("pending_facts")
        columns["draft_computed_at"] = F("current_score__computed_at")
    return projects.values(*PROJECT_COLUMNS, *extra, **columns)


def _with_pending_facts(row: dict) -> dict:
    """The row with its project's draft facts over the published ones. The slug stays the
    published one: it is the project's address until a rename is published."""
    row = dict(row)
    for key, value in row["draft_facts"].items():
        if key == "slug":
            continue
        if key == "operator":
            operator = Operator.objects.get(pk=value)
            row.update(
                {f"operator__{name}": getattr(operator, name) for name in ("slug", "name", "country", "kind")}
            )
        elif key in ("resources", "links"):
            row[f"{key}_json"] = orjson.dumps(value).decode()
        else:
            row[key] = value
    return row


def _moment(value) -> str | None:
    """A date-time as DRF writes it: ISO 8601 in UTC, with Z (from a datetime, or from the
    text SQLite stores: "2026-11-24 09:30:00.123456", in UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        if value[10:11] == " " and len(value) in (19, 26):
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    text = (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class TombstoneSerializer(serializers.Serializer):
    """A withdrawn project in the sync list: gone from public view, so a partner's copy should go
    too. Nothing else of it is shown."""

    slug = serializers.SlugField()
    state = serializers.ChoiceField(choices=["withdrawn"])
    withdrawn = serializers.BooleanField(help_text="Always true: remove this project from your copy.")
    updated_at = serializers.DateTimeField()


class SyncProjectSerializer(ProjectSerializer):
    """The same representation, under its own name for the cursor-paged sync list; projects
    withdrawn from publication appear as tombstones to clients who see published data only."""

    def to_representation(self, row) -> dict:
        withdrawn = (
            row.get("publication__kind") == Publication.Kind.WITHDRAWAL and row["state"] != "published"
        )
        if withdrawn and "draft_json" not in row:  # to a client who sees published data only
            return {
                "slug": row["slug"],
                "state": "withdrawn",
                "withdrawn": True,
                "updated_at": _moment(row["updated_moment"]),
            }
        return super().to_representation(row)


class RankedProjectSerializer(ProjectSerializer):
    rank = serializers.IntegerField(
        read_only=True, help_text="1 for the highest net score; ties share a rank."
    )

    class Meta(ProjectSerializer.Meta):
        fields = ["rank", *ProjectSerializer.Meta.fields]

    def to_representation(self, row) -> dict:
        return {"rank": row["rank"], **super().to_representation(row)}


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A stored blank ("no grade", for a criterion that is not applicable) is served as null."""

    def to_representation(self, value):
        return value or None


class AssessmentSerializer(serializers.ModelSerializer):
    criterion = serializers.CharField(source="criterion.code")
    dimension = serializers.CharField(source="criterion.dimension")
    weight = serializers.IntegerField(source="criterion.weight")
    rating = serializers.IntegerField(source="level", allow_null=True, min_value=0, max_value=4)
    evidence = serializers.CharField(source="justification")
    evidence_grade = BlankAsNullChoiceField(choices=EvidenceGrade.choices, allow_null=True)
    methodology = serializers.CharField(source="criterion.methodology.version")

    class Meta:
        model = Assessment
        fields = [
            "criterion",
            "dimension",
            "weight",
            "rating",
            "not_applicable",
            "evidence",
            "evidence_grade",
            "source_url",
            "methodology",
            "updated_at",
        ]


class RatingMoveSerializer(serializers.Serializer):
    criterion = serializers.CharField()
    # A level 0–4, "n/a" (not applicable) or null (missing).
    from_ = serializers.JSONField(help_text='0–4, "n/a" or null (missing).')
    to = serializers.JSONField(help_text='0–4, "n/a" or null (missing).')

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class MoveSerializer(serializers.Serializer):
    def get_fields(self):
        return {
            "from": serializers.JSONField(allow_null=True, help_text="Null for the first publication."),
            "to": serializers.JSONField(allow_null=True),
        }


class ChangesSerializer(serializers.Serializer):
    first = serializers.BooleanField(help_text="The project's first publication.")
    ratings = RatingMoveSerializer(many=True, help_text="Ratings that moved since the last publication.")
    evidence = serializers.ListField(
        child=serializers.CharField(), help_text="Criteria whose evidence changed but not their rating."
    )
    methodology = MoveSerializer()
    status = MoveSerializer()
    net = MoveSerializer()
    grade = MoveSerializer()


class ScoreHistorySerializer(serializers.ModelSerializer):
    """One publication: the card the public saw from then on, why, and what moved the score."""

    methodology = serializers.CharField(source="methodology.version")
    changes = ChangesSerializer()
    summary = serializers.SerializerMethodField(help_text='e.g. "S9.1 2 → 3; net 41.0 → 44.6; grade C → C".')
    card = ScoreCardField(source="score.card")

    class Meta:
        model = Publication
        fields = ["number", "published_at", "methodology", "note", "summary", "changes", "card"]

    def get_summary(self, publication) -> str:
        with translation.override("en"):  # the API speaks English whatever the Accept-Language
            return change_line(publication.changes)


class LevelTextsSerializer(serializers.Serializer):
    en = serializers.ListField(child=serializers.CharField(), min_length=5, max_length=5)
    ja = serializers.ListField(child=serializers.CharField(), min_length=5, max_length=5)


class CriterionSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    levels = serializers.SerializerMethodField()

    class Meta:
        model = Criterion
        fields = ["code", "dimension", "weight", "references", "name", "description", "levels"]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"en": {"type": "string"}, "ja": {"type": "string"}},
            "required": ["en", "ja"],
        }
    )
    def get_name(self, criterion) -> dict:
        return {"en": criterion.name_en, "ja": criterion.name_ja}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"en": {"type": "string"}, "ja": {"type": "string"}},
            "required": ["en", "ja"],
        }
    )
    def get_description(self, criterion) -> dict:
        return {"en": criterion.description_en, "ja": criterion.description_ja}

    @extend_schema_field(LevelTextsSerializer)
    def get_levels(self, criterion) -> dict:
        return {"en": criterion.levels_en, "ja": criterion.levels_ja}


class MethodologySerializer(serializers.ModelSerializer):
    parameters = serializers.JSONField(help_text="α, bands, grades, caps, evidence weights and their names.")
    criteria = CriterionSerializer(many=True, read_only=True)

    class Meta:
        model = Methodology
        fields = ["version", "state", "published_at", "parameters", "criteria"]


class ProjectWriteSerializer(ProjectRecord):
    """A project as in the interchange format; "assessments", when given, replace them all."""


class AssessmentWriteSerializer(AssessmentRecord):
    """One rating: ``rating`` 0–4 with ``evidence`` and ``evidence_grade``, or ``not_applicable``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("criterion")  # given by the URL
