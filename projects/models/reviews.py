"""The review workflow beside the drafts: an analyst submits a project's changes for review with
a comment, a reviewer publishes them or returns them with comments. Each step is a ReviewEvent,
kept with its author (and their name, which outlives the account) and channel.

The workflow is the reviewers' queue, not a gate: who may publish is decided by the four-eyes
rule from provenance (services/publication.py), whatever the state here.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.actors import Channel
from projects.validators import validate_text

MAX_COMMENT = 2000


class ReviewState(models.TextChoices):
    DRAFT = "draft", _("in preparation")
    SUBMITTED = "submitted", _("awaiting review")
    RETURNED = "returned", _("returned to the analyst")


class ReviewEvent(models.Model):
    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("submitted for review")
        RETURNED = "returned", _("returned with comments")

    project = models.ForeignKey(
        "Project", on_delete=models.CASCADE, related_name="review_events", verbose_name=_("project")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    comment = models.TextField(_("comment"), validators=[MaxLengthValidator(MAX_COMMENT), validate_text])
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_name = models.CharField(_("by (name)"), max_length=150)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review step")
        verbose_name_plural = _("review steps")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.actor_name}"
