"""The score card's documented shape (docs/scoring.md, "The served score card") for the OpenAPI schema.

The card itself is stored and served as the engine produced it (projects.scoring.Card
.as_dict); these serializers only describe it, field by field, so generated clients and the
schema tests know exactly what comes back.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.vocabularies import Confidence, Grade, RiskLevel, ScoreStatus

GRADE_CAPS = ["risk_level_high", "severe_rating"]


class RangeSchema(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="Null unless the dimension is covered.")
    low = serializers.FloatField(allow_null=True, help_text="Missing ratings counted as the worst level.")
    high = serializers.FloatField(allow_null=True, help_text="Missing ratings counted as the best level.")


class ImpactDimensionSchema(RangeSchema):
    coverage = serializers.FloatField(help_text="Share of the applicable weight that is assessed (0–1).")
    applicable = serializers.BooleanField(help_text="False when every criterion is not applicable.")


class RiskDimensionSchema(ImpactDimensionSchema):
    level = serializers.ChoiceField(choices=RiskLevel.choices, allow_null=True)
    severe = serializers.BooleanField(help_text="Some criterion of the dimension is rated 4 (severe).")


class DimensionsSchema(serializers.Serializer):
    sdg7 = ImpactDimensionSchema()
    sdg9 = ImpactDimensionSchema()
    sdg12 = ImpactDimensionSchema()
    debris = RiskDimensionSchema()
    equity = RiskDimensionSchema()


class OverallSchema(RangeSchema):
    grade = serializers.ChoiceField(choices=Grade.choices, allow_null=True)
    grade_cap = serializers.ChoiceField(
        choices=GRADE_CAPS, allow_null=True, help_text="Which cap lowered the grade, if one did."
    )


class ScoreCardSchema(serializers.Serializer):
    methodology = serializers.CharField(help_text="The method version the card was computed under.")
    status = serializers.ChoiceField(choices=ScoreStatus.choices)
    confidence = serializers.ChoiceField(choices=Confidence.choices, allow_null=True)
    confidence_score = serializers.FloatField(allow_null=True)
    overall = OverallSchema()
    impact = RangeSchema()
    dimensions = DimensionsSchema()


@extend_schema_field(ScoreCardSchema(allow_null=True))
class ScoreCardField(serializers.ReadOnlyField):
    """The stored card, served as it is."""


ScoreCardSchemaOrNull = ScoreCardSchema(allow_null=True)


# --- uncertainty (method §8) and what would change the grade (§10) ----------------------------


class NetIntervalSchema(serializers.Serializer):
    median = serializers.FloatField()
    p5 = serializers.FloatField(help_text="5th percentile of the scenarios' net scores.")
    p95 = serializers.FloatField(help_text="95th percentile: with p5, the 90% interval.")


class GradeSharesSchema(serializers.Serializer):
    A = serializers.FloatField()
    B = serializers.FloatField()
    C = serializers.FloatField()
    D = serializers.FloatField()
    E = serializers.FloatField()


class RankIntervalSchema(serializers.Serializer):
    published = serializers.IntegerField(
        allow_null=True,
        help_text="Its place by published net score among the run's projects (ties share a place).",
    )
    median = serializers.IntegerField()
    p5 = serializers.IntegerField(help_text="The better end of the 90% interval.")
    p95 = serializers.IntegerField(help_text="The worse end of the 90% interval.")
    of = serializers.IntegerField(help_text="Rated published projects ranked in the run.")


class UncertaintySchema(serializers.Serializer):
    computed_at = serializers.DateTimeField(help_text="When the run finished.")
    scenarios = serializers.IntegerField(help_text="K, the number of scenarios (at least 1,000).")
    seed = serializers.IntegerField(
        help_text="The run's fixed seed: the same data and method give the same figures."
    )
    net = NetIntervalSchema()
    grades = GradeSharesSchema(help_text="The share of scenarios in each grade (sums to 1).")
    rank = RankIntervalSchema(
        help_text="The project's rank among all rated published projects in each scenario "
        "(1 + the number with a strictly higher net score)."
    )
    top10 = serializers.FloatField(help_text="The share of scenarios in which it ranks in the top 10.")
    stable = serializers.BooleanField(help_text="The official grade holds in at least 90% of scenarios.")


class GradeChangeSchema(serializers.Serializer):
    criterion = serializers.CharField(help_text="The criterion's code.")
    # "from" is a Python keyword: declared under another name, shown as "from".
    from_ = serializers.IntegerField(min_value=0, max_value=4, help_text="Its published level.")
    to = serializers.IntegerField(min_value=0, max_value=4, help_text="One level up or down.")
    net = serializers.FloatField(help_text="The net score the change would give.")
    grade = serializers.ChoiceField(choices=Grade.choices, help_text="The grade it would give.")

    def get_fields(self):
        fields = super().get_fields()
        return {("from" if name == "from_" else name): field for name, field in fields.items()}


@extend_schema_field(UncertaintySchema(allow_null=True))
class UncertaintyField(serializers.ReadOnlyField):
    """The project's uncertainty figures as stored by the last run (method §8)."""


@extend_schema_field(GradeChangeSchema(many=True, allow_null=True))
class GradeChangesField(serializers.ReadOnlyField):
    """The project's grade changes as stored by the last run (method §10)."""


@extend_schema_field(RankIntervalSchema(allow_null=True))
class RankIntervalField(serializers.ReadOnlyField):
    """The rank's 90% interval from the uncertainty figures."""
