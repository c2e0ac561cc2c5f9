"""Standard Webhooks signatures (issue 17): ours verify with the reference library, with either
secret during a rotation, and not with another secret, another body or another id."""

import base64
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from projects.webhooks.signing import SecretError, new_secret, secret_bytes, signed_headers
from tests.support.examples import examples


@settings(max_examples=examples(100), deadline=None)
@given(body=st.binary(max_size=2000), message_id=st.from_regex(r"msg_[A-Za-z0-9]{1,30}", fullmatch=True))
def test_the_reference_library_verifies_our_signature(body, message_id):
    secret = new_secret()
    headers = signed_headers([secret], message_id, int(time.time()), body)
    assert Webhook(secret).verify(body, headers, json_parse=False) is None


def test_during_a_rotation_either_secret_verifies_and_a_stranger_does_not():
    old, new = new_secret(), new_secret()
    body = b'{"type": "project.published"}'
    headers = signed_headers([new, old], "msg_1", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_another_body_id_or_time_does_not_verify():
    secret, now = new_secret(), int(time.time())
    headers = signed_headers([secret], "msg_1", now, b"{}")
    for changed in (
        {**headers, "webhook-id": "msg_2"},
        {**headers, "webhook-timestamp": str(now + 1)},
    ):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(b"{}", changed)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b"{ }", headers)


def test_secrets_are_random_and_well_formed():
    made = {new_secret() for _ in range(50)}
    assert len(made) == 50
    assert all(len(secret_bytes(secret)) == 32 for secret in made)
    for bad in ("abc", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(SecretError):
            secret_bytes(bad)
    with pytest.raises(SecretError):
        signed_headers([], "msg_1", 0, b"")
