"""The editorial log: every change to the record, with its actor, channel and old → new value.

One row per changed project fact, rating or operator field, and one per publication or
withdrawal. The rows are written by the models themselves when they save (``record_*`` below,
called from ``Project.save``, ``Assessment.save``/``delete`` and ``Operator.save``), with the actor
the channel stated (``projects.actors``): whatever door a change came in by, it is logged, and
without an actor it is refused. Four eyes reads this log: whoever is the actor of any change to a
project since its last review may not publish or withdraw it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects import actors
from projects.actors import Channel


class ChangeKind(models.TextChoices):
    CREATED = "created", _("project created")
    FACT = "fact", _("fact changed")
    RATING = "rating", _("rating changed")
    OPERATOR = "operator", _("operator changed")
    PUBLICATION = "publication", _("published")
    WITHDRAWAL = "withdrawal", _("withdrawn")
    REPUBLICATION = "republication", _("republished under a new method")


class Change(models.Model):
    Kind = ChangeKind

    project = models.ForeignKey(
        "Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="change_log",
        verbose_name=_("project"),
        db_index=False,  # the (project, id) index below starts with it
    )
    operator = models.ForeignKey(
        "Operator",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="change_log",
        verbose_name=_("operator"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ChangeKind.choices)
    subject = models.CharField(
        _("subject"), max_length=100, blank=True, help_text=_("The field or the criterion code.")
    )
    old = models.JSONField(_("before"), null=True, blank=True)
    new = models.JSONField(_("after"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The actor's user name as it was: attribution outlives the account.
    actor_name = models.CharField(_("actor's name"), max_length=150)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    api_key = models.ForeignKey(
        "ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
    )
    publication = models.ForeignKey(
        "Publication",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("publication"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [models.Index(fields=["project", "id"], name="change_project_order")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ChangeKind.values), name="change_kind_known"),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="change_channel_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} by {self.actor_name} ({self.channel})"


REVIEWS = [Change.Kind.PUBLICATION, Change.Kind.WITHDRAWAL]
EDITS = [Change.Kind.CREATED, Change.Kind.FACT, Change.Kind.RATING]


def _actor_columns(actor: actors.Actor) -> dict:
    return {
        "actor": actor.user,
        "actor_name": actor.user.get_username(),
        "channel": actor.channel,
        "api_key": actor.api_key,
    }


def record(
    *,
    kind: str,
    subject: str = "",
    old=None,
    new=None,
    project_id=None,
    operator_id=None,
    publication=None,
    actor: actors.Actor | None = None,
) -> Change:
    """Log one change by the stated actor (NoActor, and nothing written, when none is)."""
    actor = actor or actors.required(str(kind))
    return Change.objects.create(
        kind=kind,
        subject=subject,
        old=old,
        new=new,
        project_id=project_id,
        operator_id=operator_id,
        publication=publication,
        **_actor_columns(actor),
    )


def record_many(rows: list[dict]) -> None:
    """Log several changes by the stated actor in one statement."""
    if not rows:
        return
    columns = _actor_columns(actors.required("change"))
    Change.objects.bulk_create([Change(**row, **columns) for row in rows])


def _editors_since_review(*, edits: list[str], reviews: list[str], **subject) -> set[int]:
    """Ids of the actors of ``edits`` to ``subject`` since its last change of a kind in ``reviews``."""
    last_review = Change.objects.filter(**subject, kind__in=reviews).order_by("-id").values("id").first()
    changes = Change.objects.filter(**subject, kind__in=edits)
    if last_review is not None:
        changes = changes.filter(id__gt=last_review["id"])
    return set(changes.exclude(actor=None).values_list("actor_id", flat=True).distinct())


def editors_since_review(project_id: int) -> set[int]:
    """Ids of the users who changed the project (facts or ratings, through any channel) since
    it was last published or withdrawn by a reviewer. An automatic republication under a new
    method is no review: it does not clear anyone's changes."""
    return _editors_since_review(project_id=project_id, edits=EDITS, reviews=REVIEWS)


def operator_editors_since_review(operator_id: int) -> set[int]:
    """Ids of the users who changed the operator since a reviewer last published it."""
    return _editors_since_review(
        operator_id=operator_id, edits=[Change.Kind.OPERATOR], reviews=[Change.Kind.PUBLICATION]
    )
