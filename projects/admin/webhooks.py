"""Webhook subscriptions and their deliveries in the admin (issue 17), for administrators.

Every write goes through projects.services.webhooks, as the API's do: the same checks with the
field named, the same limit per key, the secret generated there and shown once, stale changes
refused. Deliveries are read-only but for "redeliver" (projects.services.webhook_delivery).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from projects.models import ApiKey, WebhookDelivery, WebhookSubscription
from projects.models.webhooks import EVENT_TYPES, MAX_SUBSCRIPTIONS_PER_KEY
from projects.services.errors import Conflict, InvalidInput
from projects.services.webhook_delivery import delivery_redeliver
from projects.services.webhooks import (
    StaleSubscription,
    TooManySubscriptions,
    subscription_change,
    subscription_clean,
    subscription_create,
    subscription_delete,
)
from projects.vocabularies import TargetBody

RECENT_DELIVERIES = 20


class SubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("event types"),
        choices=[(name, name) for name in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )
    operators = forms.CharField(
        label=_("operators"),
        required=False,
        help_text=_("Operator slugs, separated by commas; empty: every operator."),
    )
    bodies = forms.MultipleChoiceField(
        label=_("target bodies"),
        choices=TargetBody.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every body."),
    )
    enabled = forms.BooleanField(
        label=_("enabled"),
        required=False,
        initial=True,
        help_text=_("Ticking it again after a failure forgets the failures."),
    )
    read_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = WebhookSubscription
        fields = ["api_key", "url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance if self.instance.pk else None
        if current is not None:
            self.fields["api_key"].disabled = True  # the key that owns it stays the owner
            self.initial.update(
                events=current.events,
                operators=", ".join(current.operators),
                bodies=current.bodies,
                enabled=current.enabled,
                read_version=current.version,
            )
        else:
            self.fields["api_key"].queryset = ApiKey.objects.filter(revoked_at__isnull=True)

    def body(self) -> dict:
        data = self.cleaned_data
        operators = [part.strip() for part in (data.get("operators") or "").split(",") if part.strip()]
        return {
            "url": data.get("url") or "",
            "events": list(data.get("events") or []),
            "operators": operators,
            "bodies": list(data.get("bodies") or []),
            "enabled": bool(data.get("enabled")),
        }

    def clean(self):
        cleaned = super().clean()
        current = self.instance if self.instance.pk else None
        try:
            subscription_clean(self.body(), current)
        except InvalidInput as refused:
            for field, problems in refused.errors.items():
                self.add_error(field if field in self.fields else None, problems)
        key = cleaned.get("api_key")
        if current is None and key is not None and key.webhooks.count() >= MAX_SUBSCRIPTIONS_PER_KEY:
            self.add_error("api_key", TooManySubscriptions().args[0])  # the service checks it too
        if current is not None and cleaned.get("read_version") != current.version:
            self.add_error(None, StaleSubscription().args[0])
        return cleaned


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["projects/admin.css"]}

    form = SubscriptionForm
    list_display = [
        "url",
        "api_key",
        "events_shown",
        "is_enabled",
        "failing_since",
        "disabled_reason",
        "pending",
    ]
    list_filter = [("disabled_at", admin.EmptyFieldListFilter)]
    search_fields = ["url", "api_key__name", "api_key__prefix"]
    list_select_related = ["api_key"]
    readonly_fields = [
        "created_at",
        "updated_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "previous_until",
        "recent_deliveries",
    ]

    def get_fields(self, request, obj=None):
        fields = ["api_key", "url", "events", "operators", "bodies", "enabled", "read_version"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    def get_queryset(self, request):
        pending = Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.PENDING))
        return super().get_queryset(request).annotate(pending_count=pending)

    @admin.display(description=_("event types"))
    def events_shown(self, subscription):
        return ", ".join(subscription.events)

    @admin.display(description=_("enabled"), boolean=True)
    def is_enabled(self, subscription):
        return subscription.enabled

    @admin.display(description=_("pending deliveries"), ordering="pending_count")
    def pending(self, subscription):
        return subscription.pending_count

    @admin.display(description=_("recent deliveries"))
    def recent_deliveries(self, subscription):
        deliveries = subscription.deliveries.select_related("event").order_by("-created_at", "-id")[
            :RECENT_DELIVERIES
        ]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:projects_webhookdelivery_change", args=[d.pk]),
                    d.event.type,
                    d.event.message_id,
                    d.get_state_display(),
                    d.attempts,
                    d.last_status or d.last_error or "—",
                )
                for d in deliveries
            ),
        )
        if not rows:
            return _("None yet.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("event"),
            _("event id"),
            _("state"),
            _("attempts"),
            _("last answer"),
            rows,
        )

    def save_model(self, request, obj, form, change):
        body = form.body()
        if change:
            stored = WebhookSubscription.objects.get(pk=obj.pk)
            changed = subscription_change(stored, body, version=form.cleaned_data["read_version"])
            obj.__dict__.update(changed.__dict__)
            return
        created, secret = subscription_create(form.cleaned_data["api_key"], body)
        obj.__dict__.update(created.__dict__)
        request._webhook_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "subscription": obj,
            "secret": secret,
            "opts": self.opts,
            "title": _("Webhook subscription created"),
        }
        response = TemplateResponse(request, "admin/projects/webhooksubscription/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def delete_model(self, request, obj):
        subscription_delete(obj, version=obj.version)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            subscription_delete(subscription, version=subscription.version)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["projects/admin.css"]}

    list_display = [
        "event_type",
        "event_id",
        "subscription",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "event__type"]
    search_fields = ["event__message_id", "subscription__url"]
    list_select_related = ["event", "subscription"]
    fields = [
        "event_type",
        "event_id",
        "subscription",
        "state",
        "attempts",
        "first_attempt_at",
        "next_attempt_at",
        "last_status",
        "last_error",
        "delivered_at",
        "created_at",
        "attempt_log",
        "body",
    ]
    readonly_fields = fields
    actions = ["redeliver"]

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description=_("event id"))
    def event_id(self, delivery):
        return delivery.event.message_id

    @admin.display(description=_("attempts, first to last"))
    def attempt_log(self, delivery):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    attempt.number,
                    localtime(attempt.at).strftime("%Y-%m-%d %H:%M:%S"),
                    attempt.get_outcome_display(),
                    attempt.status or "—",
                    attempt.error or "—",
                    "—" if attempt.duration_ms is None else attempt.duration_ms,
                )
                for attempt in delivery.attempt_log.order_by("number")
            ),
        )
        if not rows:
            return _("None yet.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            _("attempt"),
            _("time"),
            _("outcome"),
            _("response code"),
            _("error"),
            _("duration (ms)"),
            rows,
        )

    @admin.display(description=_("body sent"))
    def body(self, delivery):
        return format_html("<pre>{}</pre>", delivery.event.body)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: the action below is the one change

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("projects.change_webhookdelivery"):
            actions.pop("redeliver", None)
        return actions

    @admin.action(description=_("Redeliver the selected deliveries (same event id)"))
    def redeliver(self, request, queryset):
        sent, refused = 0, []
        for delivery in queryset:
            try:
                delivery_redeliver(delivery)
                sent += 1
            except Conflict as why:
                refused.append(f"#{delivery.pk}: {why}")
        if sent:
            self.message_user(
                request,
                ngettext("%d delivery queued again.", "%d deliveries queued again.", sent) % sent,
                messages.SUCCESS,
            )
        for message in refused:
            self.message_user(request, message, messages.ERROR)
