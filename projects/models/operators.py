"""Operators: the agencies, companies, consortia and universities that run projects."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from projects.validators import validate_country, validate_one_line
from projects.vocabularies import OperatorKind

from . import changes

# What the public sees of an operator: each change is logged with its actor (Change).
OPERATOR_FIELDS = ["name", "slug", "country", "kind"]


def operator_slug(name: str, taken) -> str:
    """A URL name for an operator, unique among ``taken`` (a callable: slug -> bool)."""
    base = slugify(name)[:90] or "operator"
    slug, number = base, 1
    while taken(slug):
        number += 1
        slug = f"{base}-{number}"
    return slug


class Operator(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True, validators=[validate_one_line])
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        blank=True,
        help_text=_("The operator's name in web addresses; made from the name when left empty."),
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        validators=[validate_country],
        help_text=_(
            "An existing ISO 3166-1 alpha-2 code, e.g. JP, US, GB; EU for the European Space Agency, "
            "ZZ when unknown."
        ),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OperatorKind.choices)
    # Changes that wait for a reviewer, once the operator shows on published projects.
    pending_facts = models.JSONField(_("unpublished changes"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OperatorKind.values), name="operator_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """Save, logging each change with its actor. Once a project naming the operator has been
        published, what the public sees of the operator changes only when a reviewer publishes
        it (``services.publication.operator_publish``): changes wait in ``pending_facts``."""
        if not self.slug:
            self.slug = operator_slug(
                self.name, lambda slug: Operator.objects.filter(slug=slug).exclude(pk=self.pk).exists()
            )
        with transaction.atomic():
            stored = None
            if not self._state.adding:
                stored = (
                    Operator.objects.select_for_update()
                    .filter(pk=self.pk)
                    .values(*OPERATOR_FIELDS, "pending_facts")
                    .first()
                )
            pending = dict(stored["pending_facts"] or {}) if stored else {}
            working = {name: pending.get(name, stored[name]) for name in OPERATOR_FIELDS} if stored else {}
            intended = {name: getattr(self, name) for name in OPERATOR_FIELDS}
            rows = [
                {"subject": name, "old": working.get(name), "new": value}
                for name, value in intended.items()
                if stored is None or working[name] != value
            ]
            if rows:
                changes.actors.required("change of an operator")
            public = stored is not None and self.projects.filter(publication__isnull=False).exists()
            if public:
                for name, value in intended.items():
                    if value == stored[name]:
                        pending.pop(name, None)
                    else:
                        pending[name] = value
                    setattr(self, name, stored[name])
                self._check_free(pending)
                self.pending_facts = pending
            try:
                super().save(*args, **kwargs)
            finally:
                for name, value in intended.items():
                    setattr(self, name, value)
            if rows and stored is not None and not public:
                # Every project shows its operator: a change to it is a change to them, for syncs.
                now = timezone.now()
                self.projects.update(updated_at=now, changed_at=now)
            kind = changes.Change.Kind.OPERATOR
            changes.record_many([{**row, "kind": kind, "operator_id": self.pk} for row in rows])

    def _check_free(self, pending: dict) -> None:
        others = Operator.objects.exclude(pk=self.pk)
        for name in ("name", "slug"):
            value = pending.get(name)
            if (
                value
                and others.filter(
                    models.Q(**{name: value}) | models.Q(**{f"pending_facts__{name}": value})
                ).exists()
            ):
                raise ValidationError({name: _("%(value)s names another operator.") % {"value": value}})

    def apply_pending(self) -> "Operator":
        """Show the working (draft) values on this instance."""
        for name, value in (self.pending_facts or {}).items():
            setattr(self, name, value)
        return self
