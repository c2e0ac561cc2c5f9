"""Representations of the API's resources (reads). Writes are validated by the interchange
schema (projects.interchange.schema), the same rules as the importer and the admin."""

from django.utils import translation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.changes import change_line
from projects.interchange.schema import AssessmentRecord, ProjectRecord
from projects.models import Assessment, Criterion, Methodology, Operator, Project, Publication
from projects.vocabularies import EvidenceGrade

from . import rows
from .score_card import RankIntervalField, ScoreCardField


class OperatorSerializer(serializers.ModelSerializer):
    project_count = serializers.IntegerField(read_only=True, help_text="Published projects.")

    class Meta:
        model = Operator
        fields = ["slug", "name", "country", "kind", "project_count"]


class ProjectSerializer(serializers.ModelSerializer):
    # A project's fields, and how each is read and written, are the column map of
    # projects.api.rows: the schema shows its fields; a representation is written from a row.

    class Meta:
        model = Project
        fields = [column.key for column in rows.PROJECT_COLUMNS]

    def get_fields(self):
        self._declared_fields = {**rows.project_schema_fields(), **type(self)._declared_fields}
        return super().get_fields()

    def to_representation(self, row) -> dict:
        return rows.project_representation(row)


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
        if rows.is_tombstone(row):
            return rows.tombstone_representation(row)
        return super().to_representation(row)


class ProfileScoreSerializer(serializers.Serializer):
    """A project's score under the weights the request gave (the method's §9)."""

    net = serializers.FloatField(help_text="The net score under these weights, one decimal (halves up).")
    grade = serializers.CharField(help_text="The grade under these weights (the same caps as the method's).")
    grade_cap = serializers.CharField(
        allow_null=True, help_text="Which cap lowered the grade: risk_level_high or severe_rating."
    )
    official_rank = serializers.IntegerField(
        help_text="The project's rank by its published net score, among the same projects."
    )
    movement = serializers.IntegerField(
        help_text="Places gained against the official rank (official_rank − rank; negative: lost)."
    )


class RankedProjectSerializer(ProjectSerializer):
    rank = serializers.IntegerField(
        read_only=True,
        help_text="1 for the highest net score as served (one decimal); ties share a rank. Under the "
        "weights given, when the request gives `weights` or `alpha`.",
    )
    profile = ProfileScoreSerializer(
        read_only=True,
        allow_null=True,
        help_text="The score under the request's `weights` and `alpha`; null without them.",
    )

    rank_interval = RankIntervalField(
        help_text="The rank's median and 90% interval among all rated published projects over the "
        "uncertainty scenarios (the same as `uncertainty.rank`; it ignores the request's filters). "
        "Null where `uncertainty` is."
    )

    class Meta(ProjectSerializer.Meta):
        fields = ["rank", "profile", "rank_interval", *ProjectSerializer.Meta.fields]

    def to_representation(self, row) -> dict:
        project = super().to_representation(row)
        interval = project["uncertainty"]["rank"] if project["uncertainty"] else None
        return {"rank": row["rank"], "profile": row.get("profile"), "rank_interval": interval, **project}


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
    evidence_ja = serializers.CharField(
        source="justification_ja",
        help_text="The evidence in Japanese; empty where only the English is written.",
    )
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
            "evidence_ja",
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
