"""Webhook signing secrets at rest: sealed (Fernet: AES-128-CBC with HMAC-SHA256) under keys
derived from SECRET_KEY, so that a copy of the database alone reveals none of them. The service
must be able to sign with a secret, so it is encrypted, not hashed.

Keys are derived from SECRET_KEY and each of SECRET_KEY_FALLBACKS (HKDF-SHA256, a purpose of
its own): after SECRET_KEY is rotated with the old one kept as a fallback, secrets sealed under
the old key still open, and ``reseal`` moves them to the new one.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PURPOSE = b"sdgscore webhook signing secrets v1"


class SealError(ValueError):
    """A sealed secret that no current key opens (tampered with, or its key is gone)."""


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    return MultiFernet([_fernet(key) for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)])


def seal(secret: str) -> str:
    """The secret sealed under the current key."""
    return _keys().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret, under the current key or a fallback one; SealError if none opens it."""
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        raise SealError("the sealed secret does not open with SECRET_KEY or its fallbacks") from None


def reseal(sealed: str) -> str:
    """The sealed secret moved under the current key (after a SECRET_KEY rotation)."""
    try:
        return _keys().rotate(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        raise SealError("the sealed secret does not open with SECRET_KEY or its fallbacks") from None
