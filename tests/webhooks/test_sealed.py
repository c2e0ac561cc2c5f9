"""Webhook signing secrets at rest (issue 17): sealed under a key derived from SECRET_KEY; the
database alone reveals nothing; a SECRET_KEY rotation with a fallback keeps them usable."""

import pytest

from projects.webhooks.sealed import SealError, reseal, seal, unseal
from projects.webhooks.signing import new_secret


def test_a_sealed_secret_opens_and_shows_nothing_of_itself(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "k" * 50, []
    secret = new_secret()
    sealed = seal(secret)
    assert unseal(sealed) == secret
    assert secret not in sealed and secret.removeprefix("whsec_")[:12] not in sealed
    assert seal(secret) != sealed  # a fresh nonce each time


def test_another_key_or_a_tampered_seal_does_not_open(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "k" * 50, []
    sealed = seal(new_secret())
    settings.SECRET_KEY = "other" * 10
    with pytest.raises(SealError):
        unseal(sealed)
    settings.SECRET_KEY = "k" * 50
    tampered = sealed[:-8] + ("A" if sealed[-8] != "A" else "B") + sealed[-7:]
    with pytest.raises(SealError):
        unseal(tampered)
    with pytest.raises(SealError):
        unseal("not a sealed secret")


def test_a_rotated_secret_key_keeps_secrets_usable_and_reseal_moves_them(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old" * 20, []
    secret = new_secret()
    sealed = seal(secret)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new" * 20, ["old" * 20]
    assert unseal(sealed) == secret
    moved = reseal(sealed)
    settings.SECRET_KEY_FALLBACKS = []
    assert unseal(moved) == secret
    with pytest.raises(SealError):
        unseal(sealed)


@pytest.mark.django_db
def test_the_reseal_command_moves_every_subscription_to_the_new_key(settings):
    from django.core.management import CommandError, call_command

    from projects.models import ApiKey, WebhookSubscription
    from projects.services.webhooks import signing_secrets, subscription_create, subscription_rotate
    from tests.support.actors import key_owner

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old" * 20, []
    key = ApiKey.issue(owner=key_owner(), name="Desk", scope="read")[0]
    subscription, first = subscription_create(
        key, {"url": "https://a.example.org/", "events": ["project.published"]}
    )
    subscription, second = subscription_rotate(subscription, version=subscription.version)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new" * 20, ["old" * 20]
    call_command("webhook_secrets_reseal")
    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone: every secret still opens
    assert signing_secrets(WebhookSubscription.objects.get()) == [second, first]

    WebhookSubscription.objects.update(secret_sealed=seal(new_secret()))
    settings.SECRET_KEY = "lost" * 20  # a key no one kept
    with pytest.raises(CommandError, match=f"ids {subscription.pk}"):
        call_command("webhook_secrets_reseal")
