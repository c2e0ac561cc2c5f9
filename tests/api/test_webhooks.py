"""/api/v1/webhooks (issue 17): any key keeps its own subscriptions and sees no one else's; the
secret is shown once (create, rotate) and verifies deliveries; a 400 names the field; stale
writes are refused; never answered from the shared read cache."""

import time

import pytest
from standardwebhooks.webhooks import Webhook

from projects.models import WebhookSubscription
from projects.services.webhooks import signing_secrets
from projects.webhooks.signing import signed_headers

from .conftest import assert_problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks"
GOOD = {"url": "https://hooks.example.org/in", "events": ["project.published"], "bodies": ["moon"]}


def create(client, body=GOOD):
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return response


def test_any_key_subscribes_its_own_and_the_secret_is_shown_once(anon, reader, writer):
    assert_problem(anon.get(URL), 401)
    assert_problem(anon.post(URL, GOOD, format="json"), 401)
    made = create(reader)
    body = made.json()
    assert made["Location"] == f"{URL}/{body['id']}" and body["secret"].startswith("whsec_")
    assert made["Cache-Control"] == "no-store"
    assert (body["url"], body["events"], body["bodies"], body["enabled"]) == (
        GOOD["url"],
        GOOD["events"],
        ["moon"],
        True,
    )
    shown = reader.get(f"{URL}/{body['id']}").json()
    assert "secret" not in shown and [s["id"] for s in reader.get(URL).json()] == [body["id"]]
    assert body["secret"] not in str(reader.get(URL).content)
    # The secret signs the deliveries.
    stored = WebhookSubscription.objects.get()
    payload = b'{"type": "project.published"}'
    Webhook(body["secret"]).verify(
        payload, signed_headers(signing_secrets(stored), "msg_1", int(time.time()), payload)
    )
    # Another key sees none of it.
    assert writer.get(URL).json() == []
    assert_problem(writer.get(f"{URL}/{body['id']}"), 404)
    assert_problem(
        writer.patch(f"{URL}/{body['id']}", {"enabled": False}, format="json", HTTP_IF_MATCH="*"), 404
    )
    assert_problem(writer.delete(f"{URL}/{body['id']}", HTTP_IF_MATCH="*"), 404)
    assert_problem(writer.post(f"{URL}/{body['id']}/rotate-secret", HTTP_IF_MATCH="*"), 404)
    assert WebhookSubscription.objects.get().enabled


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://hooks.example.org/in"}, "url"),
        ({"url": "https://10.0.0.5/in"}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url"),
        ({"events": ["everything"]}, "events"),
        ({"events": []}, "events"),
        ({"bodies": ["sun"]}, "bodies"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_a_bad_subscription_is_a_400_naming_the_field(reader, settings, change, field):
    settings.WEBHOOK_ALLOW_HTTP, settings.WEBHOOK_ALLOW_PRIVATE = False, False
    body = assert_problem(reader.post(URL, {**GOOD, **change}, format="json"), 400)
    assert field in {error["field"] for error in body["errors"]}
    assert not WebhookSubscription.objects.exists()


def test_changes_need_the_etag_read_and_a_rotation_keeps_the_old_secret_for_a_while(reader):
    made = create(reader)
    address, etag, old = f"{URL}/{made.json()['id']}", made["ETag"], made.json()["secret"]
    assert_problem(reader.patch(address, {"events": ["project.withdrawn"]}, format="json"), 428)
    changed = reader.patch(address, {"events": ["project.withdrawn"]}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["events"] == ["project.withdrawn"]
    assert "secret" not in changed.json()
    assert_problem(reader.post(f"{address}/rotate-secret", HTTP_IF_MATCH=etag), 412)
    rotated = reader.post(f"{address}/rotate-secret", HTTP_IF_MATCH=changed["ETag"])
    new = rotated.json()["secret"]
    assert rotated.status_code == 200 and new != old and rotated.json()["previous_secret_until"]
    payload = b"{}"
    headers = signed_headers(
        signing_secrets(WebhookSubscription.objects.get()), "msg_2", int(time.time()), payload
    )
    Webhook(old).verify(payload, headers)
    Webhook(new).verify(payload, headers)
    assert_problem(reader.delete(address, HTTP_IF_MATCH=changed["ETag"]), 412)
    assert reader.delete(address, HTTP_IF_MATCH=rotated["ETag"]).status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_the_shared_read_cache_never_answers_one_key_with_anothers_subscriptions(client_for, settings):
    settings.RESPONSE_CACHE = True
    first, second = client_for("read"), client_for("read")
    made = create(first).json()
    assert [s["id"] for s in first.get(URL).json()] == [made["id"]]
    assert second.get(URL).json() == []
    assert_problem(second.get(f"{URL}/{made['id']}"), 404)
