"""Validation of interchange records, strict about JSON types, naming every bad field.

Built on DRF serializers so the API's writes can share the same rules. Strict on purpose: in a
data file "2" is not 2 and 2.5 is not a level, and a misspelt key is an error rather than a
silently dropped value.
"""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, URLValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.models import Assessment, Operator, Project, Publication
from projects.models.assessments import rating_errors
from projects.models.projects import MAX_LINKS
from projects.models.scores import ScoreCard
from projects.validators import LINK_MAX_LENGTH, validate_link
from projects.vocabularies import EvidenceGrade, OperatorKind, Origin, Phase, Resource, TargetBody


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": _("Must be a string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            raise serializers.ValidationError(_("Must not contain NUL characters."))
        return super().to_internal_value(data)


def model_text(model, name: str, **kwargs) -> StrictCharField:
    """A text field with the limit and rules of the model's field: declared once, on the model,
    so that what the admin can store the import takes back, and the other way round."""
    field = model._meta.get_field(name)
    # DRF checks max_length itself (and names it in the API schema); a link's own rule
    # (validate_link) is stricter than the URLValidator a URLField brings.
    rules = [rule for rule in field.validators if not isinstance(rule, MaxLengthValidator | URLValidator)]
    return StrictCharField(max_length=field.max_length, validators=rules, **kwargs)


def link_field(**kwargs) -> StrictCharField:
    """An http(s) link as everywhere (validate_link): no other scheme, no credentials."""
    return StrictCharField(max_length=LINK_MAX_LENGTH, validators=[validate_link], **kwargs)


class StrictChoiceField(serializers.ChoiceField):
    default_error_messages = {"invalid_choice": _("{input!r} is not allowed; use one of: {allowed}.")}

    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in self.choices:
            self.fail("invalid_choice", input=data, allowed=", ".join(map(str, self.choices)))
        return data


class ClosedSerializer(serializers.Serializer):
    """A serializer that refuses keys it does not know (``ignored_keys`` are accepted)."""

    ignored_keys: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields) - self.ignored_keys)
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("Unknown field; allowed: %s.") % ", ".join(self.fields)] for key in unknown}
                )
        return super().to_internal_value(data)


class OperatorRecord(ClosedSerializer):
    name = model_text(Operator, "name")
    country = model_text(Operator, "country")
    kind = StrictChoiceField(choices=OperatorKind.choices)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "The slug of an existing operator, e.g. nasa."},
            {
                "type": "object",
                "description": "A new operator, or an existing one exactly as it is.",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "kind": {"type": "string", "enum": list(OperatorKind.values)},
                },
                "required": ["name", "country", "kind"],
                "additionalProperties": False,
            },
        ]
    }
)
class OperatorReference(serializers.Field):
    """An existing operator by its slug, or a description {name, country, kind}: a new operator,
    or one that exists exactly so (a record never changes an operator)."""

    default_error_messages = {
        "unknown": _("No operator has the slug '{slug}'; give its name, country and kind to create one."),
        "invalid": _("Give an operator's slug, or an object with its name, country and kind."),
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            operator = Operator.objects.filter(slug=data).first()
            if operator is None:
                self.fail("unknown", slug=data[:100])
            return {"name": operator.name, "country": operator.country, "kind": operator.kind}
        if not isinstance(data, dict):
            self.fail("invalid")
        record = OperatorRecord(data=data)
        record.is_valid(raise_exception=True)
        return record.validated_data

    def to_representation(self, value):
        return value


class AssessmentRecord(ClosedSerializer):
    criterion = StrictCharField(max_length=10)
    rating = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=4)
    not_applicable = StrictBooleanField(required=False, default=False)
    evidence = model_text(Assessment, "justification", required=False, allow_blank=True, default="")
    # The evidence in Japanese (optional): shown on Japanese pages, which otherwise show the
    # English with an "English only" note.
    evidence_ja = model_text(Assessment, "justification_ja", required=False, allow_blank=True, default="")
    # Null as a read gives it back for a criterion not applicable (none): the same as left out.
    evidence_grade = StrictChoiceField(choices=EvidenceGrade.choices, required=False, allow_null=True)
    source_url = link_field(required=False, allow_blank=True, default="")

    as_published_before = False  # see rating_errors

    def validate(self, attrs):
        level = attrs.get("rating")
        not_applicable = attrs["not_applicable"]
        if not not_applicable and "rating" not in attrs:
            raise serializers.ValidationError(
                {"rating": [_('Give a rating from 0 to 4, or "not_applicable": true.')]}
            )
        errors = rating_errors(
            level=level,
            not_applicable=not_applicable,
            justification=attrs["evidence"],
            evidence_grade=attrs.get("evidence_grade") or "",
            source_url=attrs["source_url"],
            as_published_before=self.as_published_before,
        )
        if errors:
            names = {"level": "rating", "justification": "evidence"}
            raise serializers.ValidationError({names.get(k, k): [v] for k, v in errors.items()})
        return attrs


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


class StrictDateTimeField(serializers.DateTimeField):
    """A date-time with its time zone, as the export writes it (2026-11-24T09:30:00.123456Z)."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not RFC3339.match(value):
            raise serializers.ValidationError(
                _("Use a date-time with a time zone, e.g. 2026-11-24T09:30:00Z.")
            )
        return super().to_internal_value(value)


class MethodVersionField(StrictCharField):
    def to_internal_value(self, value):
        value = super().to_internal_value(value)
        if value not in self.context["method_versions"]:
            raise serializers.ValidationError(
                _("Unknown method version %(version)r; published: %(known)s.")
                % {"version": value, "known": ", ".join(sorted(self.context["method_versions"]))}
            )
        return value


CARD_KEYS = {"methodology", "status", "confidence", "overall", "dimensions"}


class StoredCardField(serializers.DictField):
    """A score card as the export wrote it; restored as it is (the current one is then checked
    against the engine: a card that does not match its ratings is followed by a fresh one)."""

    def to_internal_value(self, value):
        value = super().to_internal_value(value)
        missing = sorted(CARD_KEYS - set(value))
        if missing:
            raise serializers.ValidationError(_("Not a score card: missing %s.") % ", ".join(missing))
        malformed = serializers.ValidationError(
            _("Not a score card: its status, overall or dimension figures are malformed.")
        )
        try:
            stored = ScoreCard.from_card(project_id=0, methodology=None, card=value)
            stored.clean_fields(exclude=["project", "methodology", "computed_at"])
        except (KeyError, TypeError, AttributeError):
            raise malformed from None
        except DjangoValidationError as invalid:
            # Figures a card leaves empty (no grade, no value) are fine; wrong types are not.
            codes = {error.code for errors in invalid.error_dict.values() for error in errors}
            if codes - {"blank", "null"}:
                raise malformed from None
        return value


class HistoricCardRecord(ClosedSerializer):
    computed_at = StrictDateTimeField()
    methodology = MethodVersionField(max_length=20)
    card = StoredCardField()

    def validate(self, attrs):
        if attrs["card"].get("methodology") != attrs["methodology"]:
            raise serializers.ValidationError({"card": [_("The card's method differs from methodology.")]})
        return attrs


class PublishedRatingRecord(AssessmentRecord):
    updated_at = StrictDateTimeField(required=False)

    as_published_before = True  # a past publication is restored as it was published


CHANGES_KEYS = {"first", "ratings", "evidence", "methodology", "status", "net", "grade"}


class PublicationRecord(ClosedSerializer):
    number = StrictIntegerField(min_value=1, max_value=1_000_000)
    kind = serializers.ChoiceField(choices=["publication", "withdrawal", "republication"], required=False)
    published_at = StrictDateTimeField()
    published_by = StrictCharField(max_length=150, allow_null=True)
    note = model_text(Publication, "note")
    methodology = MethodVersionField(max_length=20)
    score_card = StrictIntegerField(min_value=0, help_text="position of its card in score_cards")
    ratings = PublishedRatingRecord(many=True, max_length=200)
    changes = serializers.DictField()

    def validate_changes(self, value):
        missing = sorted(CHANGES_KEYS - set(value))
        if missing:
            raise serializers.ValidationError(_("Missing %s.") % ", ".join(missing))
        return value


class HistoryRecord(ClosedSerializer):
    """A project's score cards and publications, restored by an import into an empty database."""

    published = StrictBooleanField()
    score_cards = HistoricCardRecord(many=True, allow_empty=False, max_length=100_000)
    publications = PublicationRecord(many=True, max_length=10_000)
    published_facts = serializers.DictField(
        required=False, help_text="The published values of facts whose changes wait for a publication."
    )

    def validate(self, attrs):
        cards, publications = attrs["score_cards"], attrs["publications"]
        errors = {}
        for index, publication in enumerate(publications):
            if publication["number"] != index + 1:
                errors[index] = {
                    "number": [_("Publications are numbered 1, 2, 3… in order; expected %d.") % (index + 1)]
                }
            elif publication["score_card"] >= len(cards):
                errors[index] = {
                    "score_card": [
                        _("No card at position %(n)d: there are %(count)d.")
                        % {"n": publication["score_card"], "count": len(cards)}
                    ]
                }
        if errors:
            raise serializers.ValidationError(
                {"publications": [errors.get(i, {}) for i in range(len(publications))]}
            )
        if attrs["published"] and not publications:
            raise serializers.ValidationError({"published": [_("A published project needs a publication.")]})
        return attrs


class ProjectRecord(ClosedSerializer):
    # Exported for readers; recomputed, never imported.
    ignored_keys = frozenset({"score", "uncertainty", "grade_changes"})

    def __init__(self, *args, ignore_score: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not ignore_score:  # the API: a score in a request body is an error, not a no-op
            self.ignored_keys = frozenset()
            self.fields.pop("history")  # and history is the service's own record

    slug = model_text(Project, "slug")
    name = model_text(Project, "name")
    operator = OperatorReference()
    target_body = StrictChoiceField(choices=TargetBody.choices)
    resources = serializers.ListField(
        child=StrictChoiceField(choices=Resource.choices), required=False, default=list, max_length=20
    )
    phase = StrictChoiceField(choices=Phase.choices)
    launch_year = StrictIntegerField(required=False, allow_null=True, min_value=1957, max_value=2100)
    origin = StrictChoiceField(choices=Origin.choices, required=False, default=Origin.ASSESSED)
    summary = model_text(Project, "summary", required=False, allow_blank=True, default="")
    summary_ja = model_text(Project, "summary_ja", required=False, allow_blank=True, default="")
    links = serializers.ListField(child=link_field(), required=False, default=list, max_length=MAX_LINKS)
    assessments = AssessmentRecord(many=True, required=False, max_length=200)
    history = HistoryRecord(required=False)

    def validate_resources(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("A resource is listed twice."))
        return value

    def validate_assessments(self, value):
        codes = [item["criterion"] for item in value]
        known = self.context["criterion_codes"]
        errors = {}
        for index, code in enumerate(codes):
            if code not in known:
                errors[index] = {
                    "criterion": [
                        _("Unknown criterion %(code)r in method %(version)s.")
                        % {"code": code, "version": self.context["method_version"]}
                    ]
                }
            elif codes.index(code) != index:
                errors[index] = {"criterion": [_("Criterion %s is assessed twice.") % code]}
        if errors:
            raise serializers.ValidationError([errors.get(i, {}) for i in range(len(value))])
        return value


def field_errors(detail, prefix: str = "") -> list[dict]:
    """DRF's nested validation detail as a flat list of {"field": "a.b[2].c", "message": …}."""
    items: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif key in ("non_field_errors", "__all__"):
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            items += field_errors(value, name)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            items += [{"field": prefix, "message": str(item)} for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    items += field_errors(item, f"{prefix}[{index}]")
    else:
        items.append({"field": prefix, "message": str(detail)})
    return items


def flatten_errors(detail) -> list[str]:
    """The same errors as lines like ``assessments[2].rating: message``."""
    return [f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in field_errors(detail)]
