"""Webhooks at least once: every event reaches every subscription that wants it, with the same
id, signed so that the reference library verifies it, although the endpoint fails, times out
and drops connections at random and task workers are SIGKILLed during deliveries.

    .venv/bin/python -m proof.webhook_kill [--events 40] [--workers 2] [--kills 2]

Creates a PostgreSQL database of its own on 127.0.0.1 (dropped at the end), migrates it,
generates published projects and subscribes three endpoints of a loopback receiver (one to
every event type, one to publications only, one to withdrawals only). The receiver answers
each request as chance decides: 200, 500 (15 %), later than the 10 s a delivery waits (5 %),
or a connection dropped without an answer (10 %). Then ``--workers`` real ``manage.py
db_worker`` processes run while a reviewer withdraws and publishes projects again, ``--events``
times, through the service (each a ``project.withdrawn`` or ``project.published`` event).
``--kills`` times a worker caught in the middle of a delivery (its task running, the delivery
claimed by it, not yet recorded) is SIGSTOPped, checked, SIGKILLed and replaced.

Then, read from the database and the receiver's record:

1. one event per publication and withdrawal the reviewer made, each fanned out;
2. every (event, subscription that wants it) has one delivery, delivered, and the receiver
   answered 200 to at least one request at that endpoint carrying the event's id and its
   recorded body; no delivery for a subscription that does not want the event;
3. every request the receiver got verifies with the subscription's secret under the reference
   library (``standardwebhooks``), and all requests for one event carry one id and one body;
4. every delivery a kill landed in logged that attempt as lost and was delivered afterwards,
   and no webhook task is left "running" in the task database (a dead worker's is marked lost).

Exit status: 0 when all holds, 1 when something does not, 2 when the run could not be set up or
no kill landed inside a delivery (the proof then proves nothing). Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass

from harness.django_run import DjangoRun
from harness.webhook_receiver import Receiver
from proof.load_faults import DEFAULT_POSTGRES, loopback_url

FAILURES = {"fail": 0.15, "slow": 0.05, "drop": 0.10}
SUBSCRIPTIONS = {
    "/all": ["project.published", "project.withdrawn", "methodology.released", "rescoring.completed"],
    "/published": ["project.published"],
    "/withdrawn": ["project.withdrawn"],
}
SETTLE = 0.3  # seconds a stopped worker's statement in flight may take to land

SETUP = """
import json
from django.contrib.auth import get_user_model
from django.core.management import call_command
from projects import actors
from projects.models import ApiKey
from projects.services.webhooks import subscription_create
users = get_user_model().objects
analyst = users.create_user("proof-analyst", password=None, is_staff=True)
owner = users.create_user("proof-key-owner", password=None, is_staff=True)
users.create_user("proof-reviewer", password=None, is_staff=True)
with actors.acting(analyst, "shell"):
    call_command("generate_projects", "{projects}", "--seed", "7")
key = ApiKey.issue(owner=owner, name="Proof", scope="read")[0]
made = {{}}
for path, events in json.loads({subscriptions!r}).items():
    subscription, secret = subscription_create(key, {{"url": {base!r} + path, "events": events}})
    made[path] = {{"id": subscription.pk, "secret": secret, "events": events}}
print("SUBSCRIPTIONS " + json.dumps(made))
"""

# A reviewer withdraws and publishes projects again, one change at a time (each commits its event).
FLOW = """
import random, time
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from projects import actors
from projects.models import Project
from projects.services.publication import project_publish, project_withdraw
reviewer = get_user_model().objects.get(username="proof-reviewer")
reviewer.user_permissions.add(Permission.objects.get(codename="publish_project"))
reviewer = get_user_model().objects.get(pk=reviewer.pk)
draw = random.Random(11)
slugs = list(Project.objects.order_by("pk").values_list("slug", flat=True)[:20])
with actors.acting(reviewer, "shell"):
    for number in range({events}):
        project = Project.objects.get(slug=draw.choice(slugs))
        if project.state == "published":
            project_withdraw(project=project, note=f"Proof withdrawal {{number}}.")
        else:
            project_publish(project=project, note=f"Proof publication {{number}}.")
        print("CHANGE", number, flush=True)
        time.sleep(draw.uniform(0.05, 0.4))
"""


@dataclass
class Kill:
    pid: int
    delivery: int
    claim: str
    inside: bool


class Proof:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.kills: list[Kill] = []
        self.subscriptions: dict[str, dict] = {}

    def execute(self) -> int:
        import psycopg

        postgres = loopback_url(self.args.postgres, "--postgres")
        settings = {
            "WEBHOOK_ALLOW_PRIVATE": "1",
            "WEBHOOK_ALLOW_HTTP": "1",
            "WEBHOOK_LEASE": str(self.args.lease),
            "WEBHOOK_RETRY_BASE": "1",
            "UNCERTAINTY_DELAY": "3600",  # the uncertainty runs are another proof's
        }
        began = time.monotonic()
        receiver = Receiver(failures=FAILURES, seed=self.args.seed)
        with receiver, DjangoRun("proof_webhooks", postgres=postgres, settings=settings) as run:
            out = run.manage(
                "shell",
                "-c",
                SETUP.format(
                    projects=self.args.projects,
                    subscriptions=json.dumps(SUBSCRIPTIONS),
                    base=receiver.url(""),
                ),
            )
            line = next(line for line in out.splitlines() if line.startswith("SUBSCRIPTIONS "))
            self.subscriptions = json.loads(line.removeprefix("SUBSCRIPTIONS "))
            print(
                f"database {run.name}: {self.args.projects} projects, {len(self.subscriptions)} subscriptions"
            )
            workers: dict[str, int] = {}
            for _ in range(self.args.workers):
                pid, worker_id = run.start_worker()
                workers[worker_id] = pid
            flow = run.start("shell", "-c", FLOW.format(events=self.args.events), log="flow.log")
            with psycopg.connect(run.database_url, autocommit=True, connect_timeout=10) as db:
                while len(self.kills) < self.args.kills and flow.poll() is None:
                    kill = self.kill_one(db, run, workers)
                    if kill is not None:
                        self.kills.append(kill)
                        print(
                            f"kill {len(self.kills)}: worker {kill.pid} SIGKILLed "
                            f"{'inside' if kill.inside else 'NOT inside'} delivery {kill.delivery}; "
                            "another worker started",
                            flush=True,
                        )
                        pid, worker_id = run.start_worker()
                        workers[worker_id] = pid
                flow.wait(timeout=600)
                if flow.returncode != 0:
                    raise RuntimeError(
                        "the publication flow failed:\n" + (run.workdir / "flow.log").read_text()[-3000:]
                    )
                settled = self.wait_settled(db)
                run.stop_workers()
                state = self.read(db)
            return self.report(state, receiver, settled, time.monotonic() - began)

    # -- kills ------------------------------------------------------------------------------

    def kill_one(self, db, run: DjangoRun, workers: dict[str, int]) -> Kill | None:
        """A worker inside a delivery: its send task running, the delivery claimed, unrecorded."""
        rows = db.execute(
            "SELECT t.id, t.worker_ids, t.args_kwargs FROM django_tasks_database_dbtaskresult t "
            "WHERE t.status = 'RUNNING' AND t.task_path = 'projects.tasks.webhook_send'"
        ).fetchall()
        live = set(run.live_workers())
        for task_id, worker_ids, args_kwargs in rows:
            pid = workers.get((worker_ids or [None])[-1])
            if pid not in live:
                continue
            delivery = args_kwargs["args"][0]
            # The delivery is claimed by this very task (a claim is its task's id).
            claimed = db.execute(
                "SELECT claim FROM projects_webhookdelivery WHERE id = %s AND state = 'pending' "
                "AND claim = %s AND lease_until > now()",
                (delivery, str(task_id).replace("-", "")),
            ).fetchone()
            if claimed is None:
                continue
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            try:
                time.sleep(SETTLE)
                row = db.execute(
                    "SELECT state, claim FROM projects_webhookdelivery WHERE id = %s", (delivery,)
                ).fetchone()
                inside = row == ("pending", claimed[0])
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            run.workers[pid].wait(timeout=10)
            return Kill(pid, delivery, claimed[0], inside)
        time.sleep(0.02)
        return None

    # -- the outcome ------------------------------------------------------------------------

    def wait_settled(self, db) -> bool:
        deadline = time.monotonic() + self.args.timeout
        while time.monotonic() < deadline:
            waiting = db.execute(
                "SELECT (SELECT count(*) FROM projects_webhookevent WHERE fanned_out_at IS NULL)"
                " + (SELECT count(*) FROM projects_webhookdelivery WHERE state = 'pending')"
            ).fetchone()[0]
            if not waiting:
                return True
            time.sleep(0.5)
        return False

    def read(self, db) -> dict:
        events = {
            row[0]: {"message_id": row[1], "type": row[2], "body": row[3], "fanned_out": row[4] is not None}
            for row in db.execute(
                "SELECT id, message_id, type, body, fanned_out_at FROM projects_webhookevent"
            ).fetchall()
        }
        deliveries = defaultdict(list)
        for event_id, subscription_id, state, pk in db.execute(
            "SELECT event_id, subscription_id, state, id FROM projects_webhookdelivery"
        ).fetchall():
            deliveries[(event_id, subscription_id)].append({"state": state, "id": pk})
        lost = Counter(
            row[0]
            for row in db.execute(
                "SELECT delivery_id FROM projects_webhookattempt WHERE outcome = 'lost'"
            ).fetchall()
        )
        states = {row[0]: row[1] for row in db.execute("SELECT id, state FROM projects_webhookdelivery")}
        publications = Counter(
            row[0]
            for row in db.execute(
                "SELECT p.kind FROM projects_publication p JOIN auth_user u ON u.id = p.published_by_id "
                "WHERE u.username = 'proof-reviewer'"
            ).fetchall()
        )
        attempts = db.execute("SELECT count(*) FROM projects_webhookattempt").fetchone()[0]
        running = db.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE status = 'RUNNING' AND task_path LIKE 'projects.tasks.webhook_%%'"
        ).fetchone()[0]
        return {
            "events": events,
            "deliveries": deliveries,
            "lost": lost,
            "states": states,
            "publications": publications,
            "attempts": attempts,
            "tasks_running": running,
        }

    def report(self, state: dict, receiver: Receiver, settled: bool, seconds: float) -> int:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        problems: list[str] = []
        events = state["events"]
        by_type = Counter(event["type"] for event in events.values())
        made = state["publications"]
        if by_type["project.published"] != made.get("publication", 0):
            problems.append(
                f"{made.get('publication', 0)} publications but {by_type['project.published']} events"
            )
        if by_type["project.withdrawn"] != made.get("withdrawal", 0):
            problems.append(
                f"{made.get('withdrawal', 0)} withdrawals but {by_type['project.withdrawn']} events"
            )
        if not settled:
            problems.append(f"deliveries still pending after {self.args.timeout} s")

        requests = list(receiver.requests)
        bad_signatures = 0
        for request in requests:
            secret = self.subscriptions.get(request.path, {}).get("secret")
            try:
                Webhook(secret).verify(request.body, request.headers)
            except (WebhookVerificationError, TypeError, ValueError):
                bad_signatures += 1
        if bad_signatures:
            problems.append(f"{bad_signatures} requests did not verify with their subscription's secret")
        ids_bodies = defaultdict(set)
        for request in requests:
            ids_bodies[request.headers.get("webhook-id")].add(request.body)
        for message_id, bodies in ids_bodies.items():
            if len(bodies) > 1:
                problems.append(f"event {message_id} was sent with {len(bodies)} different bodies")

        answered = {(r.path, r.headers.get("webhook-id"), r.body) for r in requests if r.answer == "ok"}
        wanted = 0
        for event_id, event in events.items():
            if not event["fanned_out"]:
                problems.append(f"event {event['message_id']} never fanned out")
            for path, subscription in self.subscriptions.items():
                rows = state["deliveries"].get((event_id, subscription["id"]), [])
                if event["type"] not in subscription["events"]:
                    if rows:
                        problems.append(f"{path} got a delivery of {event['type']} it did not want")
                    continue
                wanted += 1
                if len(rows) != 1 or rows[0]["state"] != "delivered":
                    problems.append(f"{event['message_id']} → {path}: deliveries {rows}")
                if (path, event["message_id"], event["body"].encode()) not in answered:
                    problems.append(f"{event['message_id']} → {path}: the receiver never answered 200 to it")
        landed = [kill for kill in self.kills if kill.inside]
        for kill in landed:
            if not state["lost"].get(kill.delivery):
                problems.append(f"delivery {kill.delivery}: killed inside, but no lost attempt logged")
            if state["states"].get(kill.delivery) != "delivered":
                problems.append(f"delivery {kill.delivery}: killed inside, then not delivered")

        if state["tasks_running"]:
            problems.append(f"{state['tasks_running']} webhook tasks left running in the task database")
        answers = receiver.answers()
        per_event = Counter((r.path, r.headers.get("webhook-id")) for r in requests)
        repeated = sum(1 for count in per_event.values() if count > 1)
        print()
        print(f"events            {len(events)} ({dict(by_type)}); reviewer's changes {dict(made)}")
        print(
            f"deliveries        {wanted} wanted (event × subscription), {state['attempts']} attempts logged"
        )
        print(
            f"receiver          {len(requests)} requests: {answers['ok']} answered 200, "
            f"{answers['fail']} 500, {answers['slow']} too slow, {answers['drop']} dropped"
        )
        print(f"                  {repeated} deliveries received more than once (same id and body each time)")
        print(
            f"signatures        {len(requests) - bad_signatures} of {len(requests)} verified "
            "(standardwebhooks)"
        )
        print(
            f"kills             {len(self.kills)} ({len(landed)} inside a delivery, asked {self.args.kills})"
        )
        print(f"tasks left running in the task database: {state['tasks_running']}")
        print(f"time              {seconds:.1f} s")
        if problems:
            print(f"\nwebhook kill: FAILED, {len(problems)} problems:")
            for problem in problems[:30]:
                print(f"  - {problem}")
            return 1
        if not landed:
            print("\nwebhook kill: proves nothing: no kill landed inside a delivery", file=sys.stderr)
            return 2
        print("\nwebhook kill: every event delivered to every subscription that wants it, at least once")
        return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="an administrator's URL (loopback)")
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--events", type=int, default=40, help="withdrawals and publications made")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--lease", type=int, default=12, help="WEBHOOK_LEASE for the workers (s)")
    parser.add_argument("--timeout", type=int, default=180, help="seconds to wait for every delivery")
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return Proof(args).execute()
    except Exception:
        traceback.print_exc()
        return 2


if __name__ == "__main__":
    sys.exit(main())
