"""Webhook subscriptions (issue 17): an API key's endpoints, checked on every write, their
signing secrets generated here, shown once, sealed at rest and rotated with a grace period.

A subscription is the key's own (any scope), like its weighting profiles: no one else sees or
changes it, and it is not the public record. Deliveries are still to come.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from projects.models import ApiKey, WebhookSubscription
from projects.models.webhooks import EVENT_TYPES, MAX_SUBSCRIPTIONS_PER_KEY, MAX_URL
from projects.vocabularies import TargetBody
from projects.webhooks.sealed import SealError, reseal, seal, unseal
from projects.webhooks.signing import new_secret
from projects.webhooks.transport import refused_because

from .errors import Conflict, InvalidInput

FIELDS = ("url", "events", "operators", "bodies", "enabled")
MAX_FILTER = 100


class TooManySubscriptions(Conflict):
    code = "too_many_subscriptions"

    def __init__(self):
        super().__init__(
            f"This key has {MAX_SUBSCRIPTIONS_PER_KEY} webhook subscriptions already: delete one first."
        )


class StaleSubscription(Conflict):
    code = "stale"

    def __init__(self):
        super().__init__("The subscription changed since you read it: read it again and repeat your change.")


def _url_problem(url: Any) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return "Give the endpoint's URL."
    if len(url) > MAX_URL:
        return f"At most {MAX_URL} characters."
    if not url.isascii() or any(character.isspace() or ord(character) < 32 for character in url.strip()):
        return "Give the URL in ASCII without spaces: percent-encode the rest, the host in IDNA (xn--…)."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return "Not a URL."
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        return "Give an https URL." if "http" not in allowed else "Give an http or https URL."
    if not parts.hostname:
        return "Give a URL with a host."
    if parts.username or parts.password:
        return "A URL with a user name or password is not taken: the signature authenticates us."
    if parts.fragment:
        return "A URL with a fragment (#…) is not taken."
    try:
        why = refused_because(parts.hostname)
    except ValueError:
        why = None  # a name: its addresses are checked at every delivery, when connecting
    if why and not settings.WEBHOOK_ALLOW_PRIVATE:
        return f"Deliveries never go to {why}."
    return None


def _choices(value: Any, allowed: set[str] | None, what: str) -> tuple[list[str], str | None]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return [], f"Give a list of {what}."
    if len(value) > MAX_FILTER:
        return [], f"At most {MAX_FILTER} {what}."
    if len(set(value)) != len(value):
        return [], "Give each once."
    unknown = sorted(set(value) - allowed) if allowed is not None else []
    if unknown:
        return [], f"Unknown {what}: {', '.join(unknown[:5])}; give some of {', '.join(sorted(allowed))}."
    return list(value), None


def subscription_clean(body: Any, current: WebhookSubscription | None = None) -> dict:
    """A subscription's fields from a request body (for a change, the fields given over the
    current ones), checked: InvalidInput names each wrong field."""
    if not isinstance(body, dict):
        raise InvalidInput.of(
            "non_field_errors", "Send a JSON object with url, events, operators and bodies."
        )
    errors: dict[str, list[str]] = {}
    for key in body:
        if key not in FIELDS:
            errors[str(key)[:40]] = [f"Unknown field; give {', '.join(FIELDS)}."]
    merged = {
        "url": current.url if current else None,
        "events": current.events if current else None,
        "operators": current.operators if current else [],
        "bodies": current.bodies if current else [],
        "enabled": current.enabled if current else True,
        **body,
    }
    if (problem := _url_problem(merged["url"])) is not None:
        errors["url"] = [problem]
    events, problem = _choices(merged["events"], set(EVENT_TYPES), "event types")
    if problem is None and not events:
        problem = "Give at least one event type."
    if problem:
        errors["events"] = [problem]
    operators, problem = _choices(merged["operators"], None, "operator slugs")
    if problem:
        errors["operators"] = [problem]
    bodies, problem = _choices(merged["bodies"], set(TargetBody.values), "target bodies")
    if problem:
        errors["bodies"] = [problem]
    if not isinstance(merged["enabled"], bool):
        errors["enabled"] = ["Give true or false."]
    if errors:
        raise InvalidInput(errors)
    return {
        "url": merged["url"].strip(),
        "events": events,
        "operators": operators,
        "bodies": bodies,
        "enabled": merged["enabled"],
    }


def subscription_create(api_key: ApiKey, body: Any) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (shown to the client once, kept sealed)."""
    clean = subscription_clean(body)
    secret = new_secret()
    with transaction.atomic():
        ApiKey.objects.select_for_update().filter(pk=api_key.pk).first()
        if WebhookSubscription.objects.filter(api_key=api_key).count() >= MAX_SUBSCRIPTIONS_PER_KEY:
            raise TooManySubscriptions()
        enabled = clean.pop("enabled")
        subscription = WebhookSubscription.objects.create(
            api_key=api_key,
            secret_sealed=seal(secret),
            disabled_at=None if enabled else timezone.now(),
            disabled_reason="" if enabled else "disabled by its key",
            **clean,
        )
    return subscription, secret


def subscription_change(subscription: WebhookSubscription, body: Any, *, version: int) -> WebhookSubscription:
    """The fields given changed, the others kept; ``version``: the one the client read.
    Enabling a disabled subscription clears its failures."""
    clean = subscription_clean(body, subscription)
    enabled = clean.pop("enabled")
    if enabled:
        state = (
            {"disabled_at": None, "disabled_reason": "", "failing_since": None}
            if not subscription.enabled
            else {}
        )
    else:
        state = (
            {"disabled_at": timezone.now(), "disabled_reason": "disabled by its key"}
            if subscription.enabled
            else {}
        )
    updated = WebhookSubscription.objects.filter(pk=subscription.pk, version=version).update(
        **clean, **state, version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        raise StaleSubscription()
    subscription.refresh_from_db()
    return subscription


def subscription_rotate(
    subscription: WebhookSubscription, *, version: int
) -> tuple[WebhookSubscription, str]:
    """A new signing secret (shown once); the old one also signs for the grace period, so that a
    receiver can move to the new one without losing a delivery."""
    secret = new_secret()
    until = timezone.now() + timedelta(hours=settings.WEBHOOK_ROTATION_GRACE_HOURS)
    updated = WebhookSubscription.objects.filter(pk=subscription.pk, version=version).update(
        secret_sealed=seal(secret),
        previous_secret_sealed=subscription.secret_sealed,
        previous_until=until,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise StaleSubscription()
    subscription.refresh_from_db()
    return subscription, secret


def subscription_delete(subscription: WebhookSubscription, *, version: int) -> None:
    deleted, _ = WebhookSubscription.objects.filter(pk=subscription.pk, version=version).delete()
    if not deleted:
        raise StaleSubscription()


def signing_secrets(subscription: WebhookSubscription, now: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with: the current one, and the previous one while its
    grace period lasts."""
    now = now or timezone.now()
    secrets = [unseal(subscription.secret_sealed)]
    if (
        subscription.previous_secret_sealed
        and subscription.previous_until
        and now < subscription.previous_until
    ):
        secrets.append(unseal(subscription.previous_secret_sealed))
    return secrets


def secrets_reseal() -> tuple[int, list[int]]:
    """Every subscription's secrets sealed again under the current SECRET_KEY (after a rotation,
    before the old key leaves SECRET_KEY_FALLBACKS): how many, and the ids none of the keys opens."""
    done, unopened = 0, []
    for subscription in WebhookSubscription.objects.only("secret_sealed", "previous_secret_sealed"):
        try:
            fields = {"secret_sealed": reseal(subscription.secret_sealed)}
            if subscription.previous_secret_sealed:
                fields["previous_secret_sealed"] = reseal(subscription.previous_secret_sealed)
        except SealError:
            unopened.append(subscription.pk)
            continue
        WebhookSubscription.objects.filter(
            pk=subscription.pk, secret_sealed=subscription.secret_sealed
        ).update(**fields)  # a rotation meanwhile sealed its new secret under the current key already
        done += 1
    return done, unopened
