"""Standard Webhooks signatures (https://www.standardwebhooks.com/): the few lines the reference
library ``standardwebhooks`` also has (tests verify ours with it).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature HMAC-SHA256
with the secret's bytes, base64, as ``v1,<signature>``. During a secret's rotation a delivery
carries one signature per secret, space-separated, and a receiver holding either verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32


class SecretError(ValueError):
    """Not a signing secret as Standard Webhooks writes one (``whsec_`` and base64)."""


def new_secret() -> str:
    """A new signing secret: 32 random bytes, as ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise SecretError("a signing secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        raise SecretError("a signing secret is whsec_ and base64") from None
    if len(key) < 24:
        raise SecretError("a signing secret holds at least 24 bytes")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{id}.{timestamp}.{body}``."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(signing: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a delivery, signed with each secret in ``signing`` (the current
    one, and the previous one while a rotation's grace lasts)."""
    if not signing:
        raise SecretError("a delivery is signed with at least one secret")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, message_id, timestamp, body) for secret in signing),
    }
