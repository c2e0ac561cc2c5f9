"""Projects: one space-resource mission or venture, rated under the current method."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, OrderBy
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.validators import (  # noqa: F401  validate_visible_url: named by migration 0007
    LINK_MAX_LENGTH,
    validate_link,
    validate_one_line,
    validate_text,
    validate_visible_url,
)
from projects.vocabularies import Origin, Phase, PublicationState, Resource, TargetBody

from . import changes
from .operators import Operator
from .reviews import ReviewState

MAX_LINKS = 20
MAX_SUMMARY = 10_000

# The descriptive facts of a project: each change to one is logged with its actor (Change).
# Columns a save of the model never writes from memory (see Project.save).
UNWRITTEN = frozenset({"version", "review_state"})

FACT_FIELDS = [
    "slug",
    "name",
    "operator_id",
    "target_body",
    "resources",
    "phase",
    "launch_year",
    "summary",
    "summary_ja",
    "links",
    "origin",
]


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
    review_state = models.CharField(
        _("review"),
        max_length=10,
        choices=ReviewState.choices,
        default=ReviewState.DRAFT,
        db_default=ReviewState.DRAFT,
        editable=False,
        db_index=True,
        help_text=_("Whether the draft awaits review or was returned to its analyst."),
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
    # The draft of the facts of a project that has been published: {fact: working value} for
    # each fact that differs from the published value in its column (the public sees columns).
    pending_facts = models.JSONField(
        _("unpublished changes of facts"), default=dict, blank=True, editable=False
    )
    # Moves on every change to the facts or to any working rating (evidence included), whoever
    # makes it: the API's ETag and the admin form carry it, so a write made from an older
    # reading is refused instead of silently undoing another's. Computed columns (cards,
    # publication) are written with .update() and leave it alone.
    version = models.PositiveBigIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    # Moves with every change a client who sees drafts can see: whatever moves ``updated_at``
    # (the public's date), and besides every change of the facts or working ratings (with
    # ``version``) and every new working card. Write keys sync and filter by it.
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

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
            # A write key's sync: everything in order of its last change, drafts included.
            models.Index(fields=["changed_at", "id"], name="project_changed_order"),
            RankingIndex(
                F("state"), F("published_net").desc(nulls_last=True), F("name"), name="project_net_order"
            ),
        ]
        constraints = [
            # The database's word on it, whatever races the model's own check.
            models.UniqueConstraint(
                Lower("slug"),
                name="project_slug_any_case_unique",
                violation_error_code="slug_taken",
                violation_error_message=_("Another project has this slug (in upper or lower case)."),
            ),
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

    def save(self, *args, **kwargs):
        """Save, logging each changed fact with its actor (``projects.actors``); refused, with
        nothing written, when a fact changes and no actor was stated.

        Once a project has been published, what the public sees of it changes only with a
        publication: a changed fact is kept in ``pending_facts`` (the draft) and the columns keep
        the published value until a reviewer publishes (see ``services.publication``). The
        instance keeps showing the working values."""
        update_fields = kwargs.get("update_fields")
        facts = [
            name
            for name in FACT_FIELDS
            if update_fields is None or name in update_fields or name.removesuffix("_id") in update_fields
        ]
        if not facts:  # computed columns only (cards, publication state): no editorial change
            return super().save(*args, **kwargs)
        with transaction.atomic():
            stored = None
            if not self._state.adding:
                # Locked before the change is logged: a publication (which locks it too) sees
                # every change logged before it, and none after.
                stored = (
                    Project.objects.select_for_update()
                    .filter(pk=self.pk)
                    .values(*FACT_FIELDS, "pending_facts", "publication_id")
                    .first()
                )
            if stored is None:
                self._check_slug_free(self.slug)
                changes.actors.required("change of a project")
                super().save(*args, **kwargs)
                created = {"kind": changes.Change.Kind.CREATED, "new": self.facts(), "project_id": self.pk}
                changes.record_many([created])
                return
            pending = dict(stored["pending_facts"] or {})
            working = {name: pending.get(name.removesuffix("_id"), stored[name]) for name in facts}
            rows = [
                {
                    "kind": changes.Change.Kind.FACT,
                    "subject": name.removesuffix("_id"),
                    "old": working[name],
                    "new": getattr(self, name),
                    "project_id": self.pk,
                }
                for name in facts
                if getattr(self, name) != working[name]
            ]
            if rows:
                changes.actors.required("change of a project")
            if any(row["subject"] == "slug" for row in rows):
                self._check_slug_free(self.slug)
            # Counted by the database, never written from memory: a stale instance's version
            # must not undo another writer's bump; the review state is written by the review
            # services alone (a stale instance must not undo a submission either).
            written = [name for name in (update_fields or self._stored()) if name not in UNWRITTEN]
            intended = {name: getattr(self, name) for name in facts}
            if stored["publication_id"] is not None:
                for name in facts:
                    key = name.removesuffix("_id")
                    if intended[name] == stored[name]:
                        pending.pop(key, None)
                    else:
                        pending[key] = intended[name]
                    setattr(self, name, stored[name])
                self.pending_facts = pending
                written = [*written, "pending_facts"] if "pending_facts" not in written else written
            kwargs["update_fields"] = written
            try:
                super().save(*args, **kwargs)
            finally:
                for name, value in intended.items():
                    setattr(self, name, value)
            if rows:
                Project.objects.filter(pk=self.pk).update(version=F("version") + 1, changed_at=timezone.now())
                self.refresh_from_db(fields=["version", "changed_at"])
            changes.record_many(rows)

    def delete(self, *args, **kwargs):
        """A project that has ever been published is part of the public record: it is withdrawn
        (by a reviewer, with a note), never deleted."""
        if Project.objects.filter(pk=self.pk, publication__isnull=False).exists():
            raise ValidationError(
                _("%(name)s has been published: withdraw it instead of deleting it.") % {"name": self.name}
            )
        changes.actors.required("deletion of a project")
        return super().delete(*args, **kwargs)

    def _check_slug_free(self, slug: str) -> None:
        """A slug names one project, for good: not another's, nor another's pending or former one,
        in any mix of cases (``MOXIE`` beside ``moxie`` would be two addresses a reader cannot
        tell apart)."""
        others = Project.objects.exclude(pk=self.pk)
        taken = (
            others.filter(models.Q(slug__iexact=slug) | models.Q(pending_facts__slug__iexact=slug)).exists()
            or SlugRedirect.objects.filter(old_slug__iexact=slug).exclude(project_id=self.pk).exists()
        )
        if taken:
            raise ValidationError({"slug": _("The slug %(slug)s names another project.") % {"slug": slug}})

    def apply_pending(self) -> "Project":
        """Show the working (draft) facts on this instance: the published columns with the
        pending changes over them. Saving it again keeps them pending."""
        for key, value in (self.pending_facts or {}).items():
            setattr(self, "operator_id" if key == "operator" else key, value)
        return self

    def _stored(self) -> list[str]:
        """What a plain save writes of an existing project: its loaded columns but the key."""
        deferred = self.get_deferred_fields()
        return [
            field.name
            for field in self._meta.concrete_fields
            if not field.primary_key and field.attname not in deferred
        ]

    def facts(self) -> dict:
        """The descriptive facts, as logged and compared."""
        return {name.removesuffix("_id"): getattr(self, name) for name in FACT_FIELDS}

    @property
    def is_published(self) -> bool:
        return self.state == PublicationState.PUBLISHED

    @property
    def is_illustrative(self) -> bool:
        return is_illustrative(self.origin)


class SlugRedirect(models.Model):
    """A project's former slug: its old addresses answer with a permanent redirect, forever."""

    old_slug = models.SlugField(_("former slug"), max_length=100, unique=True)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="former_slugs", verbose_name=_("project")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("former slug")
        verbose_name_plural = _("former slugs")

    def __str__(self) -> str:
        return f"{self.old_slug} → {self.project_id}"
