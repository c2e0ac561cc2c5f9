"""Operators: the agencies, companies, consortia and universities that run projects."""

from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from projects.validators import validate_country, validate_one_line
from projects.vocabularies import OperatorKind


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
        if not self.slug:
            self.slug = operator_slug(
                self.name, lambda slug: Operator.objects.filter(slug=slug).exclude(pk=self.pk).exists()
            )
        super().save(*args, **kwargs)
