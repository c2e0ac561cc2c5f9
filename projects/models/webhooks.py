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

    def __str__(self) -> str:
        return self.url

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None
