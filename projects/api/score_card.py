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
