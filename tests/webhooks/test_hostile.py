"""Webhooks (issue 17) attacked the way a hostile API-key holder, reviewer or analyst would:

- drafts: an analyst's later edits never reach an event, a redelivery or a delivery's body, and
  a project never published is never an event;
- secrets: only the answers to a create and a rotation hold one; never another API answer, the
  admin, or any column of any table in clear; rotation's grace period signs with both, after it
  only the new one verifies;
- other keys: nothing of a subscription's deliveries is read, redelivered or changed by another
  key, even under its own subscription's id; a revoked or expired key is told nothing more;
- SSRF: a name that resolves to loopback, private or metadata addresses when delivering is
  refused, logged, and never connected to; an endpoint the service cannot request fails cleanly;
- filters: operators, bodies, disabled and deleted subscriptions;
- idempotence: tasks run twice send once, attempt numbers have no gaps;
- bad query parameters of the delivery log are 400 problems naming the parameter.

The bugs it found (revoked keys still told, internal addresses in the log, non-ASCII URLs
retried for ever, a gap in attempt numbers, "²" as a page number) are fixed.
"""

import json
import socket
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django_tasks.base import TaskContext
from django_tasks_db.models import DBTaskResult, get_date_max
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from projects.models import ApiKey, WebhookDelivery, WebhookEvent, WebhookSubscription
from projects.services.webhook_delivery import delivery_send, event_fan_out
from projects.webhooks import transport
from projects.webhooks.signing import new_secret
from tests.api.conftest import assert_problem, error_fields
from tests.support.actors import key_owner, member, withdraw_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.support.openapi import OpenApi, make_client
from tests.support.receiver import WEBHOOK_TASKS, run_tasks, url

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks"
BOTH = ["project.published", "project.withdrawn"]
DRAFT_WORDS = ("Draft-only summary", "Secret Renamed Prospector")
_SCHEMA: dict = {}  # the API's OpenAPI document, fetched once for the checked clients


@pytest.fixture(autouse=True)
def loopback(settings):
    """The receiver is on loopback, over http (the SSRF tests turn private addresses off)."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_ALLOW_HTTP = True


@pytest.fixture
def client_for(db):
    """client_for("read" | "write") -> an API client with a fresh key (``client.api_key``), each
    200/201 body checked against the OpenAPI schema."""
    if "openapi" not in _SCHEMA:
        response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        _SCHEMA["openapi"] = OpenApi(json.loads(response.content))
        cache.clear()

    def build(scope: str = "read"):
        key, token = ApiKey.issue(
            owner=key_owner(), name=f"{scope} partner", scope=scope, throttle_rate="1000/hour"
        )
        client = make_client(_SCHEMA["openapi"], token)
        client.api_key = key
        return client

    return build


@pytest.fixture
def reader(client_for):
    return client_for("read")


@pytest.fixture
def anon_client(client_for):
    """A client without a key (the public view), checked against the schema."""
    client_for("read")  # fetches the schema once
    return make_client(_SCHEMA["openapi"])


@pytest.fixture
def intruder(client_for):
    """Another partner's key, with the write scope."""
    return client_for("write")


def subscribe(client, target: str, events=BOTH, **fields) -> dict:
    response = client.post(URL, {"url": target, "events": list(events), **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def change(client, subscription: dict, **fields) -> dict:
    response = client.patch(f"{URL}/{subscription['id']}", fields, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200, response.content
    return response.json()


def deliveries(client, subscription: dict) -> list[dict]:
    response = client.get(f"{URL}/{subscription['id']}/deliveries?page_size=200")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def redeliver(client, subscription: dict, delivery_id: int):
    return client.post(f"{URL}/{subscription['id']}/deliveries/{delivery_id}/redeliver")


def lowered(headers: dict) -> dict:
    return {name.lower(): value for name, value in headers.items()}


def verify(secret: str, request) -> dict:
    _path, headers, body = request
    return Webhook(secret).verify(body, lowered(headers))


def numbers(delivery: dict) -> list[int]:
    return [attempt["attempt"] for attempt in delivery["log"]]


def run_each_task_twice() -> int:
    """Like the workers, but every due webhook task runs twice (a queue that delivered it twice,
    or two workers that took it): the number of distinct tasks run."""
    ran = 0
    while True:
        due = (
            DBTaskResult.objects.filter(status="READY", task_path__in=WEBHOOK_TASKS)
            .filter(Q(run_after=get_date_max()) | Q(run_after__lte=timezone.now()))
            .order_by("run_after", "enqueued_at")
            .first()
        )
        if due is None:
            return ran
        DBTaskResult.objects.filter(pk=due.pk).update(status="SUCCESSFUL")
        context = (TaskContext(task_result=due.task_result),) if due.task.takes_context else ()
        for _ in range(2):
            due.task.call(*context, *due.args_kwargs["args"], **due.args_kwargs["kwargs"])
        ran += 1


# --- Drafts never leak ----------------------------------------------------------------------


def test_an_analysts_later_draft_never_reaches_events_redeliveries_or_bodies(
    client_for, receiver, anon_client
):
    """A write key (which sees drafts elsewhere) is sent only what was published, then and later."""
    partner = client_for("write")
    subscription = subscribe(partner, url(receiver))
    project = make_project("alpha", name="Selene Ice Prospector", summary="The published summary.")
    run_tasks()
    published = anon_client.get("/api/v1/projects/alpha").json()

    # An analyst edits the draft: new name, summary and ratings, not published.
    make_project(
        "alpha", publish=False, name=DRAFT_WORDS[1], summary=DRAFT_WORDS[0], assessments=all_rated(level=4)
    )
    assert DRAFT_WORDS[0] in json.dumps(partner.get("/api/v1/projects/alpha").json())  # the draft is real
    assert WebhookEvent.objects.count() == 1  # an edit is no event

    (delivery,) = deliveries(partner, subscription)
    assert redeliver(partner, subscription, delivery["id"]).status_code == 202
    run_tasks()
    first, again = (verify(subscription["secret"], request) for request in receiver.received)
    assert first == again
    assert first["data"] == published and first["data"]["draft_score"] is None
    detail = partner.get(f"{URL}/{subscription['id']}/deliveries/{delivery['id']}").json()
    assert detail["body"] == first

    # A withdrawal while the draft waits: a tombstone, with nothing of the draft.
    withdraw_as_reviewer(project=project, note="Withdrawn while a draft waits.")
    run_tasks()
    assert WebhookEvent.objects.count() == 2
    tombstone = verify(subscription["secret"], receiver.received[-1])["data"]
    assert set(tombstone) == {"slug", "state", "withdrawn", "updated_at"}
    assert (tombstone["slug"], tombstone["state"], tombstone["withdrawn"]) == ("alpha", "withdrawn", True)
    for _path, _headers, body in receiver.received:
        assert not any(word.encode() in body for word in DRAFT_WORDS)
    for shown in deliveries(partner, subscription):
        body = partner.get(f"{URL}/{subscription['id']}/deliveries/{shown['id']}").content.decode()
        assert not any(word in body for word in DRAFT_WORDS)
    stored = "".join(WebhookEvent.objects.values_list("body", flat=True))
    assert not any(word in stored for word in DRAFT_WORDS)


def test_a_project_never_published_is_never_an_event(reader, receiver):
    """Imported, edited again, but never published: no event, no delivery, nothing sent."""
    subscription = subscribe(reader, url(receiver))
    make_project("hidden", publish=False, summary="Not for partners.")
    make_project("hidden", publish=False, summary="Still not for partners.", assessments=all_rated(level=3))
    run_tasks()
    assert WebhookEvent.objects.count() == 0
    assert deliveries(reader, subscription) == [] and receiver.received == []


# --- Secrets ----------------------------------------------------------------------------------


def secret_forms(secret: str) -> tuple[str, str]:
    """The secret as given, and its key material without the prefix."""
    return secret, secret.removeprefix("whsec_")


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        for form in secret_forms(secret):
            assert form not in text, "a signing secret is shown"


def test_the_secret_is_in_the_answers_to_create_and_rotate_only(reader, receiver):
    """List, detail, PATCH, deliveries, a delivery, a redelivery, refusals: never a secret."""
    made = subscribe(reader, url(receiver))
    make_project("alpha")
    run_tasks()
    address = f"{URL}/{made['id']}"
    delivery_id = WebhookDelivery.objects.get().pk

    def everything_else() -> str:
        answers = [
            reader.get(URL),
            reader.get(address),
            reader.patch(address, {"operators": []}, format="json", HTTP_IF_MATCH="*"),
            reader.patch(address, {"url": "ftp://nowhere"}, format="json", HTTP_IF_MATCH="*"),
            reader.patch(address, {"events": []}, format="json", HTTP_IF_MATCH='"stale"'),
            reader.get(f"{address}/deliveries"),
            reader.get(f"{address}/deliveries/{delivery_id}"),
            redeliver(reader, made, delivery_id),
            reader.post(f"{address}/rotate-secret", HTTP_IF_MATCH='"stale"'),
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 400, 412, 200, 200, 202, 412]
        return "\n".join(a.content.decode() + str(dict(a.items())) for a in answers)

    assert_no_secret(everything_else(), made["secret"])
    rotated = reader.post(f"{address}/rotate-secret", HTTP_IF_MATCH="*")
    assert rotated.status_code == 200 and rotated.json()["secret"].startswith("whsec_")
    assert_no_secret(everything_else(), made["secret"], rotated.json()["secret"])


def test_no_table_holds_a_secret_in_clear(reader, receiver):
    """Every column of every row, after a create, a rotation and deliveries."""
    made = subscribe(reader, url(receiver))
    rotated = reader.post(f"{URL}/{made['id']}/rotate-secret", HTTP_IF_MATCH="*").json()
    make_project("alpha")
    run_tasks()
    assert len(receiver.received) == 1
    row = WebhookSubscription.objects.get()
    assert row.secret_sealed and row.previous_secret_sealed  # both kept, sealed
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (the database's own table names)
            text = repr(cursor.fetchall())
            for secret in (made["secret"], rotated["secret"]):
                for form in secret_forms(secret):
                    assert form not in text, f"a signing secret in clear in {table}"


def test_the_admin_never_shows_a_secret_after_creation(reader, receiver, client):
    """An administrator's pages of the subscription, its history and its deliveries."""
    made = subscribe(reader, url(receiver))
    rotated = reader.post(f"{URL}/{made['id']}/rotate-secret", HTTP_IF_MATCH="*").json()
    make_project("alpha")
    run_tasks()
    client.force_login(member("admin1", "administrator"))
    delivery = WebhookDelivery.objects.get()
    pages = [
        "/admin/projects/webhooksubscription/",
        f"/admin/projects/webhooksubscription/{made['id']}/change/",
        f"/admin/projects/webhooksubscription/{made['id']}/history/",
        "/admin/projects/webhookdelivery/",
        f"/admin/projects/webhookdelivery/{delivery.pk}/change/",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert_no_secret(response.content.decode(), made["secret"], rotated["secret"])


def test_rotation_signs_with_both_secrets_for_the_grace_period_then_the_new_one_only(reader, receiver):
    made = subscribe(reader, url(receiver), events=["project.published"])
    old = made["secret"]
    new = reader.post(f"{URL}/{made['id']}/rotate-secret", HTTP_IF_MATCH="*").json()["secret"]
    make_project("alpha")
    run_tasks()
    during = receiver.received[0]
    assert len(lowered(during[1])["webhook-signature"].split()) == 2
    assert verify(old, during) == verify(new, during)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), during)  # a third secret verifies nothing

    WebhookSubscription.objects.filter(pk=made["id"]).update(
        previous_until=timezone.now() - timedelta(seconds=1)
    )
    (delivery,) = deliveries(reader, made)
    assert redeliver(reader, made, delivery["id"]).status_code == 202
    run_tasks()
    after = receiver.received[1]
    assert len(lowered(after[1])["webhook-signature"].split()) == 1
    assert verify(new, after)["id"] == verify(old, during)["id"]
    with pytest.raises(WebhookVerificationError):
        verify(old, after)


@pytest.mark.parametrize("role", ["analyst", "reviewer"])
def test_analysts_and_reviewers_cannot_redeliver_or_change_subscriptions_in_the_admin(
    reader, receiver, client, role
):
    made = subscribe(reader, url(receiver))
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    client.force_login(member("someone", role))
    redelivery = client.post(
        "/admin/projects/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]}
    )
    changed = client.post(
        f"/admin/projects/webhooksubscription/{made['id']}/change/",
        {"url": "https://attacker.example.org/", "events": BOTH, "read_version": 1},
    )
    shown = client.get(f"/admin/projects/webhookdelivery/{delivery.pk}/change/")
    assert (redelivery.status_code, changed.status_code, shown.status_code) == (403, 403, 403)
    run_tasks()
    assert len(receiver.received) == 1
    assert WebhookSubscription.objects.get().url == url(receiver)


# --- Other keys ---------------------------------------------------------------------------------


def test_another_key_reads_redelivers_and_changes_nothing_of_the_deliveries(reader, intruder, receiver):
    """Not by the subscription's id, nor by guessing delivery ids under its own subscription."""
    victim = subscribe(reader, url(receiver, "/victim"))
    own = subscribe(intruder, url(receiver, "/intruder"))
    make_project("alpha")
    run_tasks()
    theirs = WebhookDelivery.objects.get(subscription_id=victim["id"])
    mine = WebhookDelivery.objects.get(subscription_id=own["id"])
    base = f"{URL}/{victim['id']}/deliveries"
    for state in ("", "?state=delivered", "?state=pending", "?page_size=200"):
        assert_problem(intruder.get(f"{base}{state}"), 404)
    for path in (f"{base}/{theirs.pk}", f"{URL}/{own['id']}/deliveries/{theirs.pk}"):
        assert_problem(intruder.get(path), 404)
        assert_problem(intruder.post(f"{path}/redeliver"), 404)
        for method in (intruder.patch, intruder.put, intruder.delete):
            assert method(path, {"state": "pending"}, format="json").status_code in (404, 405)
    # Guessing every id near its own delivery under its own subscription finds only its own.
    found = {
        guess
        for guess in range(max(1, mine.pk - 5), mine.pk + 6)
        if intruder.get(f"{URL}/{own['id']}/deliveries/{guess}").status_code == 200
    }
    assert found == {mine.pk}
    listed = {d["id"] for d in deliveries(intruder, own)}
    assert listed == {mine.pk}
    victims = f"{URL}/{victim['id']}"
    assert_problem(intruder.get(victims), 404)
    assert_problem(intruder.patch(victims, {"url": "https://evil.example.org/"}, HTTP_IF_MATCH="*"), 404)
    assert_problem(intruder.post(f"{victims}/rotate-secret", HTTP_IF_MATCH="*"), 404)
    assert_problem(intruder.delete(victims, HTTP_IF_MATCH="*"), 404)

    run_tasks()  # nothing was queued again for the victim's delivery
    theirs.refresh_from_db()
    assert (theirs.state, theirs.attempts) == ("delivered", 1)
    assert [path for path, *_ in receiver.received].count("/victim") == 1
    assert WebhookSubscription.objects.get(pk=victim["id"]).version == 1


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_a_revoked_or_expired_key_is_told_nothing_more(reader, receiver, ending):
    subscription = subscribe(reader, url(receiver))
    make_project("alpha")
    run_tasks()
    assert len(receiver.received) == 1
    if ending == "revoked":
        reader.api_key.revoke()
    else:
        ApiKey.objects.filter(pk=reader.api_key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert_problem(reader.get(f"{URL}/{subscription['id']}/deliveries"), 401)  # it cannot stop them
    make_project("beta")
    run_tasks()
    assert len(receiver.received) == 1


# --- SSRF ---------------------------------------------------------------------------------------


class Resolver:
    """Stands in for the socket module in projects.webhooks.transport: the name resolves to
    ``addresses``; every connection is recorded and refused (nothing leaves the test)."""

    SOCK_STREAM, IPPROTO_TCP = socket.SOCK_STREAM, socket.IPPROTO_TCP

    def __init__(self, *addresses: str):
        self.addresses, self.connected = addresses, []

    def getaddrinfo(self, host, port, *args, **kwargs):
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in self.addresses
        ]

    def socket(self, family, kind):
        resolver = self

        class Refusing:
            def settimeout(self, timeout):
                pass

            def connect(self, address):
                resolver.connected.append(address[0])
                raise ConnectionRefusedError("refused by the test")

            def close(self):
                pass

        return Refusing()


@pytest.fixture
def public_name(settings):
    """Private addresses refused again; the endpoint is a name, accepted when subscribing."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    return "http://hooks.partner.example:8080/in"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/in",
        "http://[::ffff:7f00:1]/in",
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://0.0.0.0/in",  # noqa: S104 (a target refused, not bound)
        "http://[::]/in",
        "http://[fe80::1%25eth0]/in",
        "http://100.64.0.1/in",
    ],
)
def test_a_subscription_cannot_be_moved_to_a_private_address_later(reader, public_name, target):
    made = subscribe(reader, public_name)
    response = reader.patch(f"{URL}/{made['id']}", {"url": target}, format="json", HTTP_IF_MATCH="*")
    assert error_fields(assert_problem(response, 400)) == {"url"}
    assert WebhookSubscription.objects.get().url == public_name


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "169.254.169.254", "::ffff:169.254.169.254", "10.0.0.5", "::1", "0.0.0.0"],  # noqa: S104
)
def test_a_name_that_later_resolves_to_a_private_address_is_refused_and_logged(
    reader, public_name, monkeypatch, address
):
    subscription = subscribe(reader, public_name)  # a name: its addresses are checked when sending
    resolver = Resolver(address)
    monkeypatch.setattr(transport, "socket", resolver)
    make_project("alpha")
    run_tasks()
    assert resolver.connected == []
    (delivery,) = deliveries(reader, subscription)
    assert delivery["state"] == "pending" and delivery["last_status"] is None
    ((attempt, outcome, status, error),) = [
        (a["attempt"], a["outcome"], a["status"], a["error"]) for a in delivery["log"]
    ]
    assert (attempt, outcome, status) == (1, "failed", None) and error.startswith("refused")


def test_of_a_name_resolving_to_private_and_public_addresses_only_the_public_is_tried(
    reader, public_name, monkeypatch
):
    subscribe(reader, public_name)
    resolver = Resolver("169.254.169.254", "10.1.2.3", "93.184.215.14", "::1")
    monkeypatch.setattr(transport, "socket", resolver)
    make_project("alpha")
    run_tasks()
    assert resolver.connected == ["93.184.215.14"]
    assert "could not connect" in WebhookDelivery.objects.get().last_error


def test_the_delivery_log_does_not_reveal_what_an_internal_name_resolves_to(reader, public_name, monkeypatch):
    subscription = subscribe(reader, public_name)
    monkeypatch.setattr(transport, "socket", Resolver("10.20.30.40"))
    make_project("alpha")
    run_tasks()
    shown = reader.get(f"{URL}/{subscription['id']}/deliveries").content.decode()
    assert "refused" in shown
    assert "10.20.30.40" not in shown


@pytest.mark.parametrize(
    "path",
    [
        "/with space",
        "/caf\u00e9",
        "/in?q=\u00e9",
    ],
)
def test_an_endpoint_the_service_cannot_request_is_refused_or_fails_cleanly(reader, receiver, path):
    """Either the subscription is refused (400 naming url) or each attempt fails with a reason."""
    response = reader.post(URL, {"url": url(receiver, path), "events": BOTH}, format="json")
    if response.status_code == 400:
        assert error_fields(assert_problem(response, 400)) == {"url"}
        return
    assert response.status_code == 201, response.content
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    assert delivery_send(delivery.pk) == "skipped"  # not due again yet: it was recorded
    (attempt,) = delivery.attempt_log.all()
    assert (attempt.number, attempt.outcome) == (1, "failed") and attempt.error
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.claim) == ("pending", 1, "")


# --- Filters, disabled and deleted subscriptions ---------------------------------------------------

LUNAR = {"name": "Lunar Co", "country": "JP", "kind": "company"}
RED = {"name": "Red Planet Agency", "country": "US", "kind": "agency"}


def test_filters_never_let_other_projects_through(reader, receiver):
    lunar, red = slugify(LUNAR["name"]), slugify(RED["name"])
    wants = {
        "/lunar": ({"operators": [lunar]}, {"alpha", "gamma"}),
        "/mars": ({"bodies": ["mars"]}, {"beta", "gamma"}),
        "/lunar-moon": ({"operators": [lunar], "bodies": ["moon"]}, {"alpha"}),
        "/nobody": ({"operators": ["nobody"]}, set()),
        "/red-moon-published": (
            {"operators": [red], "bodies": ["moon"], "events": ["project.published"]},
            {"delta"},
        ),
    }
    for path, (fields, _slugs) in wants.items():
        subscribe(reader, url(receiver, path), **{"events": BOTH, **fields})
    make_project("alpha", operator=LUNAR, target_body="moon")
    make_project("beta", operator=RED, target_body="mars")
    gamma = make_project("gamma", operator=LUNAR, target_body="mars")
    delta = make_project("delta", operator=RED, target_body="moon")
    assert gamma.operator.slug == lunar and delta.operator.slug == red
    withdraw_as_reviewer(project=delta, note="Withdrawn: a red moon withdrawal.")  # wanted by no one
    run_tasks()
    told = {path: set() for path in wants}
    for path, _headers, body in receiver.received:
        told[path].add(json.loads(body)["data"]["slug"])
    assert told == {path: slugs for path, (_fields, slugs) in wants.items()}
    assert WebhookDelivery.objects.count() == 6 and len(receiver.received) == 6


def test_a_disabled_subscription_receives_nothing_new_nor_pending(reader, receiver):
    off = subscribe(reader, url(receiver, "/off"))
    on = subscribe(reader, url(receiver, "/on"))
    change(reader, off, enabled=False)
    make_project("alpha")
    run_tasks()
    assert [path for path, *_ in receiver.received] == ["/on"]
    assert deliveries(reader, off) == []

    # Disabled while its delivery waits to be sent: that delivery stops too.
    make_project("beta")
    event = WebhookEvent.objects.order_by("-id").first()  # beta's
    event_fan_out(event.pk)
    change(reader, on, enabled=False)
    run_tasks()
    assert [path for path, *_ in receiver.received] == ["/on"]
    newest = deliveries(reader, on)[0]
    assert newest["state"] == "failed" and "disabled" in newest["last_error"]


def test_a_subscription_deleted_while_its_deliveries_wait_leaves_its_tasks_harmless(reader, receiver):
    gone = subscribe(reader, url(receiver, "/gone"))
    kept = subscribe(reader, url(receiver, "/kept"))
    make_project("alpha")
    event_fan_out(WebhookEvent.objects.get().pk)  # its deliveries made, their sends queued
    assert WebhookDelivery.objects.count() == 2
    assert reader.delete(f"{URL}/{gone['id']}", HTTP_IF_MATCH="*").status_code == 204
    results = run_tasks()
    assert {"outcome": "skipped"} in results and {"outcome": "delivered"} in results
    assert [path for path, *_ in receiver.received] == ["/kept"]

    # Deleted before its event's fan-out: nothing made for it, nothing fails.
    make_project("beta")
    assert reader.delete(f"{URL}/{kept['id']}", HTTP_IF_MATCH="*").status_code == 204
    assert run_tasks() == [{"deliveries": 0}]
    assert len(receiver.received) == 1 and not WebhookDelivery.objects.exists()
    assert_problem(reader.get(f"{URL}/{kept['id']}/deliveries"), 404)


# --- Idempotence --------------------------------------------------------------------------------


def test_tasks_run_twice_send_once_and_number_attempts_without_gaps(reader, receiver):
    subscription = subscribe(reader, url(receiver))
    make_project("alpha")
    assert run_each_task_twice() >= 2  # the fan-out and the send, each twice
    assert WebhookDelivery.objects.count() == 1 and len(receiver.received) == 1
    (delivery,) = deliveries(reader, subscription)
    assert (delivery["state"], delivery["attempts"], numbers(delivery)) == ("delivered", 1, [1])

    # Redelivered twice before a worker runs, then every task twice: one more send.
    for _ in range(2):
        assert redeliver(reader, subscription, delivery["id"]).status_code == 202
    run_each_task_twice()
    assert len(receiver.received) == 2
    (delivery,) = deliveries(reader, subscription)
    assert (delivery["state"], delivery["attempts"], numbers(delivery)) == ("delivered", 2, [1, 2])
    assert len({lowered(headers)["webhook-id"] for _p, headers, _b in receiver.received}) == 1


def test_attempt_numbers_have_no_gap_after_the_subscription_was_disabled_and_enabled(reader, receiver):
    subscription = subscribe(reader, url(receiver))
    receiver.behaviour = lambda count: "fail" if count == 1 else "ok"
    make_project("alpha")
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    change(reader, subscription, enabled=False)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery.pk) == "disabled"  # its retry finds it disabled
    change(reader, subscription, enabled=True)
    assert redeliver(reader, subscription, delivery.pk).status_code == 202
    run_tasks()
    (shown,) = deliveries(reader, subscription)
    assert shown["state"] == "delivered" and len(receiver.received) == 2
    # The attempt that found it disabled is in the log, not a gap.
    assert numbers(shown) == list(range(1, shown["attempts"] + 1)) == [1, 2, 3]
    assert "not sent: the subscription is disabled" in shown["log"][1]["error"]


# --- Bad input to the delivery log ----------------------------------------------------------------

NOT_A_DIGIT = "\u00b2"  # "²": str.isdigit() says yes, int() says no


@pytest.mark.parametrize(
    "query",
    [
        "state=",
        "state=PENDING",
        "state=lost",
        "state=pending&state=pending",
        "page=",
        "page=abc",
        "page=0",
        "page=-1",
        "page=1.5",
        "page=1&page=1",
        "page_size=",
        "page_size=0",
        "page_size=201",
        "page_size=1e2",
        "page_size=-5",
        "page_size=2&page_size=2",
        f"page={NOT_A_DIGIT}",
        f"page_size={NOT_A_DIGIT}",
    ],
)
def test_bad_parameters_of_the_delivery_log_are_400s_naming_them(reader, query):
    subscription = subscribe(reader, "https://hooks.example.org/in")
    body = assert_problem(reader.get(f"{URL}/{subscription['id']}/deliveries?{query}"), 400)
    assert error_fields(body) == {query.split("=")[0]}


def test_a_page_past_the_end_is_a_404_problem_and_huge_ids_are_404s(reader):
    subscription = subscribe(reader, "https://hooks.example.org/in")
    base = f"{URL}/{subscription['id']}/deliveries"
    assert reader.get(f"{base}?page=1").json()["results"] == []
    assert_problem(reader.get(f"{base}?page=2"), 404)
    huge = 10**30
    assert_problem(reader.get(f"{URL}/{huge}/deliveries"), 404)
    assert_problem(reader.get(f"{base}/{huge}"), 404)
    assert_problem(reader.post(f"{base}/{huge}/redeliver"), 404)
