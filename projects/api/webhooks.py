"""Webhook subscriptions of an API key (/api/v1/webhooks, issue 17): any key keeps its own and
sees no one else's. The signing secret is in the answer to a create and to a rotation only.
PATCH, DELETE and a rotation need If-Match (a stale write is refused)."""

from __future__ import annotations

import orjson
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from projects.interchange.records import json_object
from projects.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from projects.models.webhooks import EVENT_TYPES
from projects.services.webhook_delivery import delivery_redeliver
from projects.services.webhooks import (
    subscription_change,
    subscription_create,
    subscription_delete,
    subscription_rotate,
)
from projects.vocabularies import TargetBody

from .pagination import PagePagination
from .permissions import api_key_of
from .profiles import KeyOwnedMixin


def _moment(value):
    return None if value is None else serializers.DateTimeField().to_representation(value)


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(
        max_length=2000, help_text="The endpoint: https (a private or loopback address is refused)."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), help_text="The event types delivered."
    )
    operators = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only these operators' projects (slugs); empty: all.",
    )
    bodies = serializers.ListField(
        child=serializers.ChoiceField(choices=TargetBody.choices),
        required=False,
        help_text="Only projects on these bodies; empty: all.",
    )
    enabled = serializers.BooleanField(
        required=False, help_text="False: nothing is delivered. A day of failed deliveries sets it false."
    )
    disabled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    disabled_reason = serializers.CharField(read_only=True, help_text="Why it was disabled, if it is.")
    failing_since = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Since when deliveries have failed without one success."
    )
    previous_secret_until = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="After a rotation: until when the old secret also signs."
    )
    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, subscription: WebhookSubscription) -> dict:
        return {
            "id": subscription.pk,
            "url": subscription.url,
            "events": subscription.events,
            "operators": subscription.operators,
            "bodies": subscription.bodies,
            "enabled": subscription.enabled,
            "disabled_at": _moment(subscription.disabled_at),
            "disabled_reason": subscription.disabled_reason,
            "failing_since": _moment(subscription.failing_since),
            "previous_secret_until": _moment(subscription.previous_until),
            "version": subscription.version,
            "created_at": _moment(subscription.created_at),
            "updated_at": _moment(subscription.updated_at),
        }


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_…), shown in this answer only: keep it to verify deliveries.",
    )


class WebhookViewMixin(KeyOwnedMixin):
    owned_model = WebhookSubscription
    shown_as = WebhookSerializer

    def subscription(self) -> WebhookSubscription:
        return self.one()

    def with_secret(self, subscription: WebhookSubscription, secret: str, status_code: int, **headers):
        """The answer that shows the signing secret, once: kept by no cache."""
        return self.answer(
            subscription, status_code, {"secret": secret}, **{"Cache-Control": "no-store"}, **headers
        )


@extend_schema(tags=["webhooks"])
class WebhookListView(WebhookViewMixin, generics.GenericAPIView):
    serializer_class = WebhookSerializer

    @extend_schema(
        summary="Your key's webhook subscriptions",
        description="The endpoints this API key has subscribed (any scope; no key sees another's).",
        responses=WebhookSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return Response([WebhookSerializer(s).data for s in self.owned()])

    @extend_schema(
        summary="Subscribe an endpoint to events",
        description="The answer holds the signing secret, once. A 400 names each wrong field. Events "
        "recorded from now on are delivered to it (Standard Webhooks headers, at least once).",
        responses={201: WebhookWithSecretSerializer},
    )
    def post(self, request, *args, **kwargs):
        subscription, secret = subscription_create(api_key_of(request), json_object(request.data))
        return self.with_secret(subscription, secret, 201, Location=f"/api/v1/webhooks/{subscription.pk}")


@extend_schema(tags=["webhooks"])
class WebhookDetailView(WebhookViewMixin, generics.GenericAPIView):
    serializer_class = WebhookSerializer

    @extend_schema(
        summary="One of your key's webhook subscriptions",
        description="Its endpoint, events, filter and state; never its secret. The ETag is for If-Match.",
    )
    def get(self, request, *args, **kwargs):
        return Response(WebhookSerializer(self.subscription()).data)

    @extend_schema(
        summary="Change a webhook subscription (If-Match)",
        description="The fields given change, the others stay; `enabled: true` turns a disabled one on "
        "again and forgets its failures. If-Match must carry the ETag you read (412 if stale).",
    )
    def patch(self, request, *args, **kwargs):
        subscription = self.current()
        changed = subscription_change(subscription, json_object(request.data), version=subscription.version)
        return self.answer(changed)

    @extend_schema(
        summary="Delete a webhook subscription (If-Match)",
        description="Nothing more is delivered to it. If-Match must carry the ETag you read (412 if stale).",
        responses={204: None},
    )
    def delete(self, request, *args, **kwargs):
        subscription = self.current()
        subscription_delete(subscription, version=subscription.version)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"])
class WebhookRotateView(WebhookViewMixin, generics.GenericAPIView):
    serializer_class = WebhookWithSecretSerializer

    @extend_schema(
        summary="Rotate a webhook subscription's signing secret (If-Match)",
        description="A new secret, in this answer only. For the grace period (`previous_secret_until`, a "
        "day by default) deliveries carry a signature with each secret, so a receiver can switch "
        "without losing one.",
        request=None,
        responses={200: WebhookWithSecretSerializer},
    )
    def post(self, request, *args, **kwargs):
        subscription = self.current()
        rotated, secret = subscription_rotate(subscription, version=subscription.version)
        return self.with_secret(rotated, secret, 200)


# --- The delivery log ------------------------------------------------------------------------


class AttemptSerializer(serializers.Serializer):
    attempt = serializers.IntegerField(help_text="1 for the first try.")
    at = serializers.DateTimeField()
    outcome = serializers.ChoiceField(
        choices=WebhookAttempt.Outcome.choices,
        help_text="delivered (a 2xx answer), failed, or lost (the worker stopped; sent again).",
    )
    status = serializers.IntegerField(allow_null=True, help_text="The answer's HTTP status; null: none.")
    error = serializers.CharField(help_text="Why it failed; empty when it was delivered.")
    duration_ms = serializers.IntegerField(allow_null=True)

    def to_representation(self, attempt: WebhookAttempt) -> dict:
        return {
            "attempt": attempt.number,
            "at": _moment(attempt.at),
            "outcome": attempt.outcome,
            "status": attempt.status,
            "error": attempt.error,
            "duration_ms": attempt.duration_ms,
        }


class DeliveryEventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The event's id: the webhook-id header of every attempt.")
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    created_at = serializers.DateTimeField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = DeliveryEventSerializer()
    state = serializers.ChoiceField(
        choices=WebhookDelivery.State.choices,
        help_text="pending (to be tried, maybe again), delivered, or failed (given up a day after "
        "its first try, or its subscription was disabled).",
    )
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True, help_text="When pending: the next try.")
    last_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    log = AttemptSerializer(many=True, help_text="Every attempt, first to last.")

    def to_representation(self, delivery: WebhookDelivery) -> dict:
        pending = delivery.state == WebhookDelivery.State.PENDING
        return {
            "id": delivery.pk,
            "event": {
                "id": delivery.event.message_id,
                "type": delivery.event.type,
                "created_at": _moment(delivery.event.created_at),
            },
            "state": delivery.state,
            "attempts": delivery.attempts,
            "next_attempt_at": _moment(delivery.next_attempt_at) if pending else None,
            "last_status": delivery.last_status,
            "last_error": delivery.last_error,
            "delivered_at": _moment(delivery.delivered_at),
            "created_at": _moment(delivery.created_at),
            "log": AttemptSerializer(delivery.attempt_log.all(), many=True).data,
        }


class EventBodySerializer(serializers.Serializer):
    """What a delivery POSTs: the event's envelope around the published representation."""

    id = serializers.CharField(help_text="The event's id (also the webhook-id header).")
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    timestamp = serializers.DateTimeField(help_text="When the change was made.")
    data = serializers.DictField(
        help_text="The project as GET /api/v1/projects/{slug} gives it when the event goes out "
        "(project.published; only its slug and `superseded: true` when a later publication came first); its "
        "tombstone (project.withdrawn); the method as GET /api/v1/methodologies/{version} gives it "
        "(methodology.released); the rescoring's counts (rescoring.completed). A representation "
        "over 256 KiB is replaced by a reference with `truncated: true`."
    )


class DeliveryDetailSerializer(DeliverySerializer):
    body = EventBodySerializer(help_text="The body every attempt sends (the event).")

    def to_representation(self, delivery: WebhookDelivery) -> dict:
        return {**super().to_representation(delivery), "body": orjson.loads(delivery.event.body)}


class DeliveryViewMixin(WebhookViewMixin):
    def deliveries(self):
        return (
            WebhookDelivery.objects.filter(subscription=self.subscription())
            .select_related("event")
            .prefetch_related(Prefetch("attempt_log", WebhookAttempt.objects.order_by("number")))
            .order_by("-created_at", "-id")
        )

    def delivery(self) -> WebhookDelivery:
        return get_object_or_404(self.deliveries(), pk=self.kwargs["delivery"])


STATE = OpenApiParameter(
    "state", str, enum=list(WebhookDelivery.State.values), description="Only deliveries in this state."
)


@extend_schema(tags=["webhooks"])
class DeliveryListView(DeliveryViewMixin, generics.GenericAPIView):
    serializer_class = DeliverySerializer
    pagination_class = PagePagination
    query_parameters = ("state",)

    @extend_schema(
        summary="A webhook subscription's delivery log",
        description="Every event sent to the endpoint, newest first, with each attempt: its time, "
        "the answer's status or why there was none. Filter with `state`.",
        parameters=[STATE],
        responses=DeliverySerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        deliveries = self.deliveries()
        states = request.query_params.getlist("state")
        if states:
            if len(states) > 1 or states[0] not in WebhookDelivery.State.values:
                choices = ", ".join(WebhookDelivery.State.values)
                raise exceptions.ValidationError({"state": [f"Give one of {choices}, once."]})
            deliveries = deliveries.filter(state=states[0])
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


@extend_schema(tags=["webhooks"])
class DeliveryDetailView(DeliveryViewMixin, generics.GenericAPIView):
    serializer_class = DeliveryDetailSerializer

    @extend_schema(
        summary="One delivery of a webhook subscription",
        description="Its state, every attempt, and the exact body sent.",
    )
    def get(self, request, *args, **kwargs):
        return Response(DeliveryDetailSerializer(self.delivery()).data)


@extend_schema(tags=["webhooks"])
class DeliveryRedeliverView(DeliveryViewMixin, generics.GenericAPIView):
    serializer_class = DeliverySerializer

    @extend_schema(
        summary="Send a delivery again",
        description="The same event (same webhook-id and body) is sent again by the workers, whatever "
        "its state; a day of retries starts again. 409 while an attempt is running or when the "
        "subscription is disabled.",
        request=None,
        responses={202: DeliverySerializer},
    )
    def post(self, request, *args, **kwargs):
        delivery_redeliver(self.delivery())
        return Response(DeliverySerializer(self.delivery()).data, status=status.HTTP_202_ACCEPTED)
