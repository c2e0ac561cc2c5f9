"""Projects: one space-resource mission or venture, rated under the current method."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, OrderBy
from django.utils.translation import gettext_lazy as _

from projects.validators import (  # noqa: F401  validate_visible_url: named by migration 0007
    LINK_MAX_LENGTH,
    validate_link,
    validate_one_line,
    validate_text,
    validate_visible_url,
)
from projects.vocabularies import Origin, Phase, PublicationState, Resource, TargetBody

from .operators import Operator

MAX_LINKS = 20
MAX_SUMMARY = 10_000


def validate_resources(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Give a list of resource names."), code="invalid")
    unknown = sorted(set(value) - set(Resource.values))
    if unknown:
        raise ValidationError(
            _("Unknown resource %(unknown)s; allowed: %(allowed)s."),
            params={"unknown": ", ".join(unknown), "allowed": ", ".join(Resource.values)},
            code="invalid_choice",
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("A resource is listed twice."), code="duplicate")


def validate_links(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Give a list of web addresses."), code="invalid")
    if len(value) > MAX_LINKS:
        raise ValidationError(_("At most %(max)d links."), params={"max": MAX_LINKS}, code="max")
    for link in value:
        if len(link) > LINK_MAX_LENGTH:
            raise ValidationError(
                _("%(link)s…: a link has at most %(max)d characters (it has %(length)d)."),
                params={"link": link[:100], "max": LINK_MAX_LENGTH, "length": len(link)},
                code="max_length",
            )
        validate_link(link)


class ProjectQuerySet(models.QuerySet):
    def published(self):
        return self.filter(state=PublicationState.PUBLISHED)


class RankingIndex(models.Index):
    """An index in ranking order: net score high to low, unrated projects last. PostgreSQL is
    told NULLS LAST; SQLite cannot be told, but its descending order puts nulls last anyway."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "sqlite":
            return super().create_sql(model, schema_editor, using, **kwargs)
        plain = [
            OrderBy(expression.expression, descending=expression.descending)
            if isinstance(expression, OrderBy)
            else expression
            for expression in self.expressions
        ]
        return models.Index(*plain, name=self.name).create_sql(model, schema_editor, using, **kwargs)


def is_illustrative(origin: str) -> bool:
    """Demo or synthetic ratings, labelled as such wherever they are shown."""
    return origin != Origin.ASSESSED


class Project(models.Model):
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200, validators=[validate_one_line])
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="projects", verbose_name=_("operator")
    )
    target_body = models.CharField(_("target body"), max_length=30, choices=TargetBody.choices)
    resources = models.JSONField(
        _("resources"),
        default=list,
        blank=True,
        validators=[validate_resources],
        help_text=_("Any of: %(values)s.") % {"values": ", ".join(Resource.values)},
    )
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    launch_year = models.PositiveSmallIntegerField(
        _("launch year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1957), MaxValueValidator(2100)],
    )
    # A TextField's max_length only reaches its form field: the validator enforces it everywhere.
    summary = models.TextField(
        _("summary (English)"),
        max_length=MAX_SUMMARY,
        blank=True,
        validators=[MaxLengthValidator(MAX_SUMMARY), validate_text],
    )
    summary_ja = models.TextField(
        _("summary (Japanese)"),
        max_length=MAX_SUMMARY,
        blank=True,
        validators=[MaxLengthValidator(MAX_SUMMARY), validate_text],
    )
    links = models.JSONField(_("links"), default=list, blank=True, validators=[validate_links])
    origin = models.CharField(
        _("origin of the ratings"),
        max_length=20,
        choices=Origin.choices,
        default=Origin.ASSESSED,
        help_text=_("Demo and synthetic projects are labelled as such wherever they are shown."),
    )
    state = models.CharField(
        _("publication state"),
        max_length=10,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        help_text=_("Only published projects are ever shown outside the admin."),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    current_score = models.OneToOneField(
        "ScoreCard",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("working score card"),
        help_text=_("Computed from the ratings as they stand now, published or not."),
    )
    # What the public and partners see: the last publication and the card it froze. The working
    # card above follows every edit of the ratings; these change only when a reviewer publishes.
    publication = models.OneToOneField(
        "Publication",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("last publication"),
    )
    published_score = models.ForeignKey(
        "ScoreCard",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("published score card"),
    )
    # The published card's net score beside it, set wherever published_score is: the rankings
    # are read in order straight off an index instead of sorting every project by a joined
    # table's column (at 100,000 projects, 0.2 s a page).
    published_net = models.FloatField(_("published net score"), null=True, blank=True, editable=False)
    # Moves on every change to the facts or to any working rating (evidence included), whoever
    # makes it: the API's ETag and the admin form carry it, so a write made from an older
    # reading is refused instead of silently undoing another's. Computed columns (cards,
    # publication) are written with .update() and leave it alone.
    version = models.PositiveBigIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        permissions = [("publish_project", _("Can publish or withdraw projects (reviewers)"))]
        indexes = [
            # Lists are in name order, usually of published projects, often by body: a page is
            # read from these indexes instead of sorting every match.
            models.Index(fields=["name", "slug"], name="project_name_order"),
            models.Index(fields=["state", "name", "slug"], name="project_state_name_order"),
            # By body, a page comes straight off the index in name order, and the newest change
            # of the selection (Last-Modified) is one index lookup.
            models.Index(fields=["state", "target_body", "name", "slug"], name="project_body_name_order"),
            models.Index(fields=["state", "target_body", "updated_at"], name="project_body_updated"),
            # The newest change among published projects (a list's Last-Modified): one lookup.
            models.Index(fields=["state", "updated_at"], name="project_state_updated"),
            RankingIndex(
                F("state"), F("published_net").desc(nulls_last=True), F("name"), name="project_net_order"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target_body__in=TargetBody.values), name="project_body_known"
            ),
            models.CheckConstraint(condition=models.Q(phase__in=Phase.values), name="project_phase_known"),
            models.CheckConstraint(
                condition=models.Q(state__in=PublicationState.values), name="project_state_known"
            ),
            models.CheckConstraint(
                condition=models.Q(launch_year__isnull=True)
                | models.Q(launch_year__gte=1957, launch_year__lte=2100),
                name="project_launch_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_published(self) -> bool:
        return self.state == PublicationState.PUBLISHED

    @property
    def is_illustrative(self) -> bool:
        return is_illustrative(self.origin)
