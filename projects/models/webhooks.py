"""Webhook subscriptions (issue 17): an API key's endpoint, the events it wants, an optional
filter, and its signing secret (sealed at rest, projects.webhooks.sealed)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .api_keys import ApiKey

EVENT_TYPES = ("project.published", "project.withdrawn", "methodology.released", "rescoring.completed")
MAX_SUBSCRIPTIONS_PER_KEY = 20
MAX_URL = 2000


class WebhookSubscription(models.Model):
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("API key")
    )
    url = models.CharField(_("endpoint URL"), max_length=MAX_URL)
    events = models.JSONField(_("event types"), help_text=_("The events delivered to the endpoint."))
    operators = models.JSONField(
        _("operators"),
        default=list,
        blank=True,
        help_text=_("Only these operators' projects (slugs); empty: all."),
    )
    bodies = models.JSONField(
        _("target bodies"),
        default=list,
        blank=True,
        help_text=_("Only projects on these bodies; empty: all."),
    )
    secret_sealed = models.TextField(_("signing secret (sealed)"), editable=False)
    previous_secret_sealed = models.TextField(
        _("previous signing secret (sealed)"), blank=True, editable=False
    )
    previous_until = models.DateTimeField(
        _("previous secret signs until"), null=True, blank=True, editable=False
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["api_key", "id"]
        indexes = [
            # Every publication asks whether anyone listens: an index of the enabled ones only
            # answers at once, however many are disabled (projects.services.webhook_events).
            models.Index(
                fields=["created_at"],
                condition=models.Q(disabled_at__isnull=True),
                name="webhook_subscription_enabled",
            )
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


MAX_PAYLOAD = 256 * 1024  # bytes of a delivery's body; a larger representation is sent as a reference


class WebhookEvent(models.Model):
    """Something partners are told of, recorded in the transaction that did it (a publication, a
    withdrawal, a method release, the end of a rescoring), with the exact body every delivery
    of it sends (a publication's is written by its fan-out). Recorded only while some
    subscription is enabled."""

    message_id = models.CharField(_("message id"), max_length=40, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=[(name, name) for name in EVENT_TYPES])
    created_at = models.DateTimeField(_("time"), editable=False)
    body = models.TextField(_("body"), editable=False, help_text=_("The JSON every delivery sends."))
    # What a subscription's filter is matched against (empty for method events: all match).
    operator = models.CharField(_("operator"), max_length=80, blank=True, editable=False)
    target_body = models.CharField(_("target body"), max_length=40, blank=True, editable=False)
    fanned_out_at = models.DateTimeField(_("deliveries created"), null=True, blank=True, editable=False)
    # A project's publication: its body is written by the fan-out (out of the request), from the
    # project as the API gives it then, while that publication is still the project's newest.
    publication = models.ForeignKey(
        "projects.Publication",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("publication"),
    )

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["fanned_out_at", "created_at"], name="webhook_event_fanout")]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class WebhookDelivery(models.Model):
    """One event to one subscription, until it is delivered or given up: a worker claims it for
    a lease (``lease_until``); a claim whose worker died runs out and another worker takes it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Given up")

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True, editable=False)
    claim = models.CharField(_("claim"), max_length=32, blank=True, editable=False)
    last_status = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.subscription.url}"


class WebhookAttempt(models.Model):
    """One try of a delivery, for the delivery log: when, the answer's code or why there was
    none, and how long it took."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        LOST = "lost", _("Worker stopped")

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    number = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    status = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery attempt")
        verbose_name_plural = _("webhook delivery attempts")
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")]

    def __str__(self) -> str:
        return f"#{self.number} {self.outcome}"
