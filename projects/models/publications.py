"""Publications: what the public and partners see of a project, frozen when a reviewer publishes.

Analysts edit a project's ratings freely; each edit rescores its *working* card
(``Project.current_score``). The public sees only the last publication: the ratings as they
stood when a reviewer published them (``ratings``, in the interchange form) and the card
computed from them (``score``). Each publication says why it was made (``note``, required) and
what moved the score since the one before (``changes``).
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.validators import validate_text

from .methodology import Methodology
from .projects import Project
from .scores import ScoreCard

MAX_NOTE = 2000


class Publication(models.Model):
    class Kind(models.TextChoices):
        PUBLICATION = "publication", _("publication")
        WITHDRAWAL = "withdrawal", _("withdrawal")
        REPUBLICATION = "republication", _("automatic republication under a new method")

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="publications", verbose_name=_("project")
    )
    number = models.PositiveIntegerField(_("number"), help_text=_("1 for the first publication."))
    published_at = models.DateTimeField(_("published"), default=timezone.now, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    kind = models.CharField(
        _("kind"), max_length=15, choices=Kind.choices, db_default=Kind.PUBLICATION, db_index=True
    )
    # The reviewer's user name as it was: attribution survives a restore without the account.
    published_by_name = models.CharField(_("published by (name)"), max_length=150, blank=True, db_default="")
    note = models.TextField(
        _("note"),
        max_length=MAX_NOTE,
        help_text=_("Why this was published."),
        validators=[MaxLengthValidator(MAX_NOTE), validate_text],
    )
    methodology = models.ForeignKey(
        Methodology, on_delete=models.PROTECT, related_name="+", verbose_name=_("method")
    )
    ratings = models.JSONField(
        _("ratings"), help_text=_("The ratings as published, in the interchange form.")
    )
    ratings_of = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("same ratings as"),
        help_text=_(
            "An automatic publication after a method change repeats the ratings of this earlier "
            "publication instead of storing them again."
        ),
    )
    ratings_key = models.CharField(
        _("ratings key"),
        max_length=32,
        blank=True,
        editable=False,
        help_text=_(
            "A digest of the scored part of the ratings (code, level, grade, n/a), for quick comparison."
        ),
    )
    score = models.ForeignKey(
        # RESTRICT: a card a publication froze cannot go, unless its project goes with it.
        ScoreCard,
        on_delete=models.RESTRICT,
        related_name="+",
        verbose_name=_("score card"),
    )
    changes = models.JSONField(
        _("changes"), help_text=_("What moved since the previous publication: ratings, net score, grade.")
    )

    class Meta:
        ordering = ["project", "-number"]
        get_latest_by = "number"
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="publication_number_once"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="publication_number_positive"),
            models.CheckConstraint(condition=~models.Q(note=""), name="publication_note_required"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} #{self.number}"

    @property
    def frozen_ratings(self) -> list[dict]:
        """The ratings this publication froze (its own, or those it repeats)."""
        return self.ratings_of.ratings if self.ratings_of_id else self.ratings
