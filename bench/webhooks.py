"""Webhooks: one event fanned out to many subscriptions by two task workers, and what a
publication costs with that many subscriptions.

    .venv/bin/python -m bench.webhooks [--subscriptions 1000] [--workers 2] [--publications 60]

On a PostgreSQL database of its own (harness.django_run, dropped at the end), with
``--subscriptions`` subscriptions to every event type, each at its own path of a loopback
receiver that answers 200 at once:

1. **Fan-out.** ``--workers`` ``manage.py db_worker`` processes wait, idle. A reviewer withdraws
   one project (one ``project.withdrawn`` event). Measured: from the event's time to the last of
   its deliveries received by the endpoint (every subscription once, by its path), and to the
   last delivery recorded as delivered. Target: all delivered within 60 s with 2 workers.
2. **Publication cost.** With no worker running, a reviewer withdraws and publishes projects
   again ``--publications`` times, in process, each timed around the service call
   (``project_withdraw`` / ``project_publish``), in rounds of ten taken in turn with every
   subscription disabled (no event is recorded) and with all of them enabled (an event and its
   fan-out task recorded in the publication's transaction), after one round of each not counted.
   Target: the median with them is at most 5 ms more than without.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import BenchError, busy_note, log, main_guard, quiet_cpu, table, verdict, write_results
from harness.django_run import DjangoRun
from harness.webhook_receiver import Receiver
from proof.load_faults import DEFAULT_POSTGRES, loopback_url

MARKER = "BENCH-RESULT "
FAN_OUT_TARGET = 60.0  # seconds, with 2 workers
OVERHEAD_TARGET = 5.0  # ms

SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from projects import actors
from projects.models import ApiKey, WebhookSubscription
from projects.models.webhooks import EVENT_TYPES
from projects.services.webhooks import subscription_create
from projects.webhooks.sealed import seal
from projects.webhooks.signing import new_secret
users = get_user_model().objects
analyst = users.create_user("bench-analyst", password=None, is_staff=True)
reviewer = users.create_user("bench-reviewer", password=None, is_staff=True)
reviewer.user_permissions.add(Permission.objects.get(codename="publish_project"))
with actors.acting(analyst, "shell"):
    call_command("generate_projects", "200", "--seed", "3")
first = None
for number in range({count}):
    owner = users.create_user(f"bench-owner-{{number}}", password=None, is_staff=True)
    key = ApiKey.issue(owner=owner, name=f"Bench {{number}}", scope="read")[0]
    subscription_create(key, {{"url": {base!r} + f"/s{{number}}", "events": list(EVENT_TYPES)}})
print({marker!r} + json.dumps({{"subscriptions": WebhookSubscription.objects.count()}}))
"""

WITHDRAW_ONE = """
import json
from django.contrib.auth import get_user_model
from projects import actors
from projects.models import Project, WebhookEvent
from projects.services.publication import project_withdraw
reviewer = get_user_model().objects.get(username="bench-reviewer")
project = Project.objects.filter(state="published").order_by("pk").first()
with actors.acting(reviewer, "shell"):
    project_withdraw(project=project, note="Bench: one event.")
event = WebhookEvent.objects.order_by("-id").first()
print({marker!r} + json.dumps({{"message_id": event.message_id, "at": event.created_at.timestamp()}}))
"""

SETTLED = """
import json
from django.db.models import Max
from projects.models import WebhookDelivery, WebhookEvent
event = WebhookEvent.objects.get(message_id={message_id!r})
rows = WebhookDelivery.objects.filter(event=event)
print({marker!r} + json.dumps({{
    "deliveries": rows.count(),
    "delivered": rows.filter(state="delivered").count(),
    "last_delivered": (rows.aggregate(last=Max("delivered_at"))["last"] or event.created_at).timestamp(),
    "fanned_out": event.fanned_out_at.timestamp() if event.fanned_out_at else None,
}}))
"""

COST = """
import json, statistics, time
from django.contrib.auth import get_user_model
from django.utils import timezone
from projects import actors
from projects.models import Project, WebhookEvent, WebhookSubscription
from projects.services import publication
from projects.services.publication import project_publish, project_withdraw
reviewer = get_user_model().objects.get(username="bench-reviewer")
slugs = list(Project.objects.order_by("pk").values_list("slug", flat=True)[10:40])
times = {{"none": [], "all": []}}
recording = {{"none": [], "all": []}}  # the event's own part: project_event, timed inside
record_event = publication.project_event


def timed_event(project_id):
    began = time.perf_counter()
    try:
        return record_event(project_id)
    finally:
        recording[label].append(1000 * (time.perf_counter() - began))


publication.project_event = timed_event
events = {{"none": 0, "all": 0}}
number = 0
# Rounds of ten changes (five withdrawals, five publications), with and without the
# subscriptions in turn (after one round each not counted, to warm up), so that neither is
# measured on a colder database or process, nor on more of the dearer kind of change.
with actors.acting(reviewer, "shell"):
    for round_ in range(2 + 2 * max(1, {publications} // 10)):
        label = "all" if round_ % 2 else "none"
        WebhookSubscription.objects.update(disabled_at=None if label == "all" else timezone.now())
        events_before = WebhookEvent.objects.count()
        for _ in range(5):  # five projects withdrawn and published again: as many of each
            slug = slugs[number % len(slugs)]
            number += 1
            for change in (project_withdraw, project_publish):
                project = Project.objects.get(slug=slug)
                began = time.perf_counter()
                change(project=project, note="Bench change.")
                if round_ >= 2:
                    times[label].append(1000 * (time.perf_counter() - began))
        if round_ >= 2:
            events[label] += WebhookEvent.objects.count() - events_before
timings = {{
    label: {{
        "median_ms": statistics.median(values),
        "p90_ms": sorted(values)[int(0.9 * len(values))],
        "events": events[label],
        "runs": len(values),
        "event_part_median_ms": statistics.median(recording[label][-len(values):]),
    }}
    for label, values in times.items()
}}
print({marker!r} + json.dumps(timings))
"""


def answer(output: str) -> dict:
    line = next((line for line in output.splitlines() if line.startswith(MARKER)), None)
    if line is None:
        raise BenchError(f"a step printed no result:\n{output[-2000:]}")
    return json.loads(line.removeprefix(MARKER))


def fan_out(run: DjangoRun, receiver: Receiver, args) -> dict:
    for _ in range(args.workers):
        run.start_worker()
    time.sleep(3)  # the workers are up and idle
    busy = quiet_cpu(args.wait_quiet)
    event = answer(run.manage("shell", "-c", WITHDRAW_ONE.format(marker=MARKER)))
    log(f"event {event['message_id']} recorded; waiting for {args.subscriptions} deliveries")
    deadline = time.monotonic() + args.timeout
    paths: dict[str, float] = {}
    while time.monotonic() < deadline:
        for request in receiver.delivered():
            if request.headers.get("webhook-id") == event["message_id"]:
                paths.setdefault(request.path, request.at)
        if len(paths) >= args.subscriptions:
            break
        time.sleep(0.2)
    time.sleep(1)  # the last answers are recorded
    settled = answer(run.manage("shell", "-c", SETTLED.format(marker=MARKER, message_id=event["message_id"])))
    run.stop_workers()
    received = sorted(paths.values())
    return {
        "subscriptions": args.subscriptions,
        "workers": args.workers,
        "received": len(received),
        "deliveries": settled["deliveries"],
        "delivered": settled["delivered"],
        "first_received_s": round(received[0] - event["at"], 2) if received else None,
        "all_received_s": round(received[-1] - event["at"], 2) if received else None,
        "all_recorded_s": round(settled["last_delivered"] - event["at"], 2),
        "fanned_out_s": round(settled["fanned_out"] - event["at"], 2) if settled["fanned_out"] else None,
        "cpu_busy_before": busy,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--publications", type=int, default=200)
    parser.add_argument("--timeout", type=int, default=180)
    parser.add_argument("--wait-quiet", type=float, default=30)
    args = parser.parse_args()
    postgres = loopback_url(args.postgres, "--postgres")
    settings = {"WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_ALLOW_HTTP": "1", "UNCERTAINTY_DELAY": "3600"}
    with Receiver() as receiver, DjangoRun("bench_webhooks", postgres=postgres, settings=settings) as run:
        log(f"database {run.name}: creating {args.subscriptions} subscriptions")
        made = answer(
            run.manage(
                "shell", "-c", SETUP.format(count=args.subscriptions, base=receiver.url(""), marker=MARKER)
            )
        )
        log(f"{made['subscriptions']} subscriptions; fan-out with {args.workers} workers")
        spread = fan_out(run, receiver, args)
        log("publication cost, no worker running")
        busy = quiet_cpu(args.wait_quiet)
        cost = answer(run.manage("shell", "-c", COST.format(publications=args.publications, marker=MARKER)))
    overhead = cost["all"]["median_ms"] - cost["none"]["median_ms"]
    fan_ok = spread["delivered"] == args.subscriptions and spread["all_recorded_s"] <= FAN_OUT_TARGET
    print(
        table(
            ["", "figure", "target", ""],
            [
                [
                    f"one event to {args.subscriptions} subscriptions, {args.workers} workers",
                    f"all received in {spread['all_received_s']} s, recorded in "
                    f"{spread['all_recorded_s']} s ({spread['delivered']}/{args.subscriptions} delivered; "
                    f"fan-out {spread['fanned_out_s']} s)",
                    f"≤ {FAN_OUT_TARGET:g} s",
                    verdict(fan_ok),
                ],
                [
                    "publication, median (p90), no subscription enabled",
                    f"{cost['none']['median_ms']:.1f} ms ({cost['none']['p90_ms']:.1f}); "
                    f"{cost['none']['events']} events; event check "
                    f"{cost['none']['event_part_median_ms']:.2f} ms",
                    "",
                    "",
                ],
                [
                    f"publication, median (p90), {args.subscriptions} enabled",
                    f"{cost['all']['median_ms']:.1f} ms ({cost['all']['p90_ms']:.1f}); "
                    f"{cost['all']['events']} events; event recorded in "
                    f"{cost['all']['event_part_median_ms']:.2f} ms",
                    "",
                    "",
                ],
                [
                    "difference of the medians",
                    f"{overhead:+.1f} ms",
                    f"≤ {OVERHEAD_TARGET:g} ms",
                    verdict(overhead <= OVERHEAD_TARGET),
                ],
            ],
            align="llll",
        )
    )
    note = busy_note(max(busy, spread["cpu_busy_before"]))
    if note:
        print(note)
    path = write_results(
        "webhooks", "postgres", {"fan_out": spread, "publication_cost": {**cost, "overhead_ms": overhead}}
    )
    log(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    main_guard("bench.webhooks", main)
