"""Load and faults: acknowledged writes survive killed workers, terminated backends and a cache
outage; no draft ever shows in a public answer; every score card adds up.

    .venv/bin/python -m proof.load_faults --seconds 60

Creates a fresh PostgreSQL database on 127.0.0.1 (dropped at the end), migrates it, loads the
demo projects, issues a write key and a read key and starts gunicorn on 127.0.0.1 with production
settings and Redis behind a relay the proof can cut (proof.cache_proxy). Then, for --seconds:
anonymous, read-key and write-key readers GET the API's lists, projects, ratings, histories,
rankings, syncs and exports and the public pages; writers PUT ratings and PUT/PATCH projects with
If-Match (re-reading and retrying on 412) and POST new draft projects; bursts of clients POST one
new slug at once; an analyst process and a reviewer process (proof.editors) change and publish
four reserved projects through the services, as demo-analyst and demo-reviewer. Meanwhile a
killer SIGKILLs workers caught inside a write transaction, the database terminates backends
(pg_terminate_backend: inside a worker's transaction, or any), and Redis is cut off for a while.
Every API write carries a draft marker (proof.markers) that is also its tag, and every answer to
a public client is searched for markers (a leak); every write's answer is recorded with the
exact values sent.

Then the server is stopped and the database read directly (Django in a subprocess):

1. every acknowledged (2xx) rating or project write is stored, or was overwritten by a write that
   may have committed after it; one overwritten by a write acknowledged before it was even sent
   is lost. No write refused with a 4xx, and none whose worker was killed (or backend terminated)
   inside its open transaction, is stored;
2. no two acknowledged writes of one rating or project carried the same If-Match: the later
   would have replaced the earlier without having seen it (a lost update);
3. every acknowledged POST stored its project with all its ratings and one score card, a POST
   whose outcome is unknown stored all of that or nothing, and of concurrent POSTs of one slug
   exactly one is answered 201 and the others 409;
4. every project's current score card equals what projects.scoring computes from its stored
   ratings under the current method and is the newest card of its history, every card's columns
   mirror its JSON, and the database constraints hold; no published data holds a draft marker;
5. no draft marker showed in a public answer, and an analyst's marker only once a publication
   included it; every 500 the server logged was a database connection a fault closed; /healthz
   said degraded while Redis was cut off, and ok once it was back.

Exit status: 0 when all holds, 1 when something does not, 2 when the run could not be set up or
proved nothing (fewer than --min-in-transaction kills inside a write transaction, fewer faults
than asked, no public read checked, no publication seen, a thread of the proof crashed, ...).
Loopback only: the server, the database, Redis and every request use 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import HOST, children, drop_postgres_database, free_port, stop_processes, with_database
from proof.cache_proxy import BLACKHOLE, REFUSE, CacheProxy
from proof.editors import published_markers, read_events
from proof.markers import DRAFT, LeakCheck, draft_marker

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432"
REQUEST_TIMEOUT = 15.0  # seconds, every HTTP request
PUT_TRIES = 5  # a rating PUT refused with 412 is re-read and retried this often
KILL_SEARCH = 4.0  # seconds to wait for a worker inside a write transaction
SETTLE = 0.3  # seconds a stopped worker's backend may take to finish its statement
POST_SHARE = 0.1  # of writer rounds
HOT_SHARE = 0.3  # of rating PUTs go to two hot ratings, so that writers collide on If-Match
OPERATOR = {"name": "Load proof operator", "country": "JP", "kind": "company"}
FACT_SHARE = 0.15  # of writer rounds: a project PUT or PATCH
EDITOR_PROJECTS = 4  # published projects reserved for the analyst and reviewer processes
BURST_SIZE = 3  # clients POSTing one new slug at once
BURST_PAUSE = 1.0  # seconds between two bursts
BURST_WRITER = 1000  # writer numbers of burst clients: 1000, 1001, ...
CUT_AT, BLACKHOLE_AT, RESTORE_AT = 0.4, 0.55, 0.7  # shares of --seconds: Redis refused, unanswered, back
HEALTH_EVERY = 0.5  # seconds between two /healthz
LOG_RECORD = re.compile(r"^[A-Z][A-Za-z ]*: /")  # django.request: "Not Found: /path", ...
# The exceptions a terminated database backend raises in a worker.
DATABASE_CONNECTION = re.compile(r"OperationalError|InterfaceError|AdminShutdown")
EXCEPTION_LINE = re.compile(
    r"^((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Shutdown|Interrupt|Exit|Failure|Timeout)\w*)(?::\s|$)"
)

ACK, REJECTED, UNKNOWN = "acknowledged", "rejected", "unknown"
IN_TRANSACTION = "inside a write transaction"
# A worker's backend state once the worker is stopped: where the kill or termination landed.
WHERE = {
    "idle in transaction": IN_TRANSACTION,
    "idle": "after its commit, before its answer",
    "active": "during a statement of a write transaction",
}
PUT, POST = "rating PUT", "project POST"
BURST = "same-slug POST"  # one of several concurrent creates of one slug
PATCH, PROJECT_PUT = "project PATCH", "project PUT"
FACTS = (PATCH, PROJECT_PUT)
KEYED = (PUT, PATCH, PROJECT_PUT)  # writes that replace one value, with If-Match
SUMMARY = "summary"  # the fact that project PUTs and PATCHes change
READ, ETAG_READ = "read", "ETag read"
PUBLIC_READ = "public read"  # anonymous or read key: checked for draft markers
BEFORE_CUT, CACHE_CUT, AFTER_CUT = "cache up", "cache cut", "cache back"

# A stored rating as compared: (level, not_applicable, evidence, evidence_grade, source_url).
RatingValue = tuple[int | None, bool, str, str, str]


# ---------------------------------------------------------------------------------------------
# Pure helpers (tested in tests/proof)


def write_outcome(status: int | None) -> str:
    """What an answer says about a write: 2xx stored it, 4xx changed nothing, else unknown.

    A 4xx is raised before or inside the write's transaction, so nothing of it is committed; a
    5xx may come after the commit (and no answer at all says nothing).
    """
    if status is None:
        return UNKNOWN
    if 200 <= status < 300:
        return ACK
    if 400 <= status < 500:
        return REJECTED
    return UNKNOWN


def error_kind(exc: BaseException) -> str:
    """A short name for a request that got no HTTP answer."""
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, BrokenPipeError):
        return "broken pipe"
    if isinstance(exc, http.client.IncompleteRead):
        return "incomplete answer"
    return type(exc).__name__


def tag_for(run_id: str, writer: int, seq: int) -> str:
    """A write's tag, which is also its draft marker: no public answer may ever show it."""
    return draft_marker(run_id, writer, seq)


def parse_tag(text: str, run_id: str) -> tuple[int, int] | None:
    """(writer, sequence number) of the write of this run that a text names."""
    match = re.search(r"\[draft-marker ([0-9a-f]+) w(\d+)-s(\d+)\]", text or "")
    if match is None or match.group(1) != run_id:
        return None
    return int(match.group(2)), int(match.group(3))


def rating_value(body: dict) -> RatingValue:
    """How the service stores a rating body (see projects.services.projects.assessment_values)."""
    not_applicable = bool(body.get("not_applicable", False))
    return (
        None if not_applicable else body["rating"],
        not_applicable,
        body.get("evidence", ""),
        body.get("evidence_grade", ""),
        body.get("source_url", ""),
    )


@dataclass
class Write:
    """One write request as sent, and what became of it."""

    writer: int
    seq: int
    kind: str  # PUT, POST, BURST, PATCH or PROJECT_PUT
    slug: str
    code: str | None  # the criterion of a rating PUT; "summary" for a project PUT or PATCH
    value: Any  # PUT: a RatingValue; POST, BURST: {code: RatingValue}; PATCH, PROJECT_PUT: the summary
    if_match: str | None = None
    name: str | None = None  # POST, BURST: the project's name
    summary: str | None = None  # POST, BURST: the project's summary
    started: float = 0.0  # time.monotonic() before sending
    ended: float = float("inf")  # ... after the answer (or the failure)
    outcome: str = UNKNOWN
    status: int | None = None

    @property
    def ident(self) -> str:
        return f"w{self.writer}-s{self.seq}"

    @property
    def key(self) -> tuple[str, str | None]:
        return self.slug, self.code


@dataclass
class Verdict:
    """What the stored data says about the writes."""

    counts: Counter = field(default_factory=Counter)  # (kind, outcome) -> writes
    unknown_landed: int = 0
    unknown_not_landed: int = 0
    unknown_undetermined: int = 0  # overwritten since: whether it landed cannot be told
    superseded_by_unknown: int = 0  # acknowledged, then overwritten by a write of unknown outcome
    lost: list[str] = field(default_factory=list)
    lost_updates: list[str] = field(default_factory=list)  # If-Match not enforced
    phantom: list[str] = field(default_factory=list)  # refused with a 4xx, or killed uncommitted, yet stored
    half_written: list[str] = field(default_factory=list)
    double_creates: list[str] = field(default_factory=list)  # one slug created twice (two 201s)
    wrong_refusals: list[str] = field(default_factory=list)  # a same-slug POST refused otherwise than 409
    killed_uncommitted: int = 0  # writes whose worker was killed inside their open transaction
    bursts: int = 0  # slugs POSTed concurrently by several clients
    bursts_created: int = 0  # ... of which one POST was answered 201

    @property
    def failures(self) -> int:
        return (
            len(self.lost)
            + len(self.lost_updates)
            + len(self.phantom)
            + len(self.half_written)
            + len(self.double_creates)
            + len(self.wrong_refusals)
        )


@dataclass
class Kill:
    at: float  # time.monotonic() just before the SIGKILL (or the backend's termination)
    where: str  # where the worker was: IN_TRANSACTION, after its commit, ...


def killed_uncommitted(writes: list[Write], kills: list[Kill]) -> set[tuple[int, int]]:
    """The writes whose worker was SIGKILLed (or whose backend was terminated) inside their open
    transaction: none may be stored.

    A sync worker serves one request at a time, so the write then in flight without an answer is
    the killed one; when the timing names more than one (or none), none is counted.
    """
    found = set()
    for kill in kills:
        if kill.where != IN_TRANSACTION:
            continue
        victims = [w for w in writes if w.outcome == UNKNOWN and w.started <= kill.at <= w.ended]
        if len(victims) == 1:
            found.add((victims[0].writer, victims[0].seq))
    return found


def stored_ratings(projects: dict) -> dict[tuple[str, str], RatingValue]:
    """{(slug, code): value} from a state dump's projects."""
    return {
        (slug, code): tuple(value)
        for slug, project in projects.items()
        for code, value in project["ratings"].items()
    }


def stored_values(projects: dict) -> dict[tuple[str, str], Any]:
    """{(slug, code): rating value} and {(slug, "summary"): working summary} from a state dump."""
    values: dict[tuple[str, str], Any] = dict(stored_ratings(projects))
    for slug, project in projects.items():
        if project.get("summary") is not None:
            values[slug, SUMMARY] = project["summary"]
    return values


def _text(value) -> str:
    """The text of a stored value that carries a write's tag: a rating's evidence, or a summary."""
    return value if isinstance(value, str) else value[2]


def verify_writes(writes: list[Write], projects: dict, run_id: str, kills: Sequence[Kill] = ()) -> Verdict:
    """Check every recorded write against the stored state (``projects`` as dumped)."""
    verdict = Verdict()
    killed = killed_uncommitted(writes, list(kills))
    verdict.killed_uncommitted = len(killed)
    for write in writes:
        verdict.counts[write.kind, write.outcome] += 1
    stored = stored_values(projects)
    by_ident = {(w.writer, w.seq): w for w in writes}
    _verify_tags(by_ident, stored, run_id, verdict)
    _verify_keyed([w for w in writes if w.kind in KEYED], by_ident, stored, run_id, killed, verdict)
    rewritten = {w.slug for w in writes if w.kind in FACTS and w.outcome != REJECTED}
    _verify_posts([w for w in writes if w.kind == POST], projects, verdict, rewritten)
    _verify_bursts([w for w in writes if w.kind == BURST], projects, verdict, rewritten)
    for write in writes:
        if write.kind in KEYED:
            landed = _stored_write(by_ident, write.key, stored.get(write.key), run_id) is write
        elif write.kind == BURST:
            landed = projects.get(write.slug, {}).get("name") == write.name
        else:
            landed = write.slug in projects
        if (write.writer, write.seq) in killed and landed:
            verdict.phantom.append(f"{write.slug}: {write.ident} is stored, though killed before its commit")
    return verdict


def _stored_write(by_ident: dict, key: tuple, stored, run_id: str) -> Write | None:
    """The write of this run whose value is stored at key: a PUT or PATCH to it with exactly that value."""
    tag = parse_tag(_text(stored), run_id) if stored else None
    write = by_ident.get(tag) if tag else None
    if write is None or write.kind not in KEYED or write.key != key or write.value != stored:
        return None
    return write


def _verify_tags(by_ident: dict, stored_map: dict, run_id: str, verdict: Verdict) -> None:
    """Every stored value that names a write of this run is exactly what that write sent there."""
    for (slug, code), stored in sorted(stored_map.items()):
        tag = parse_tag(_text(stored), run_id)
        if tag is None:
            continue
        write = by_ident.get(tag)
        if write is None:
            sent = None
        elif write.kind in KEYED:
            sent = write.value if write.key == (slug, code) else None
        elif write.slug != slug:
            sent = None
        else:
            sent = write.summary if code == SUMMARY else write.value.get(code)
        if sent != stored:
            verdict.half_written.append(f"{slug} {code}: stored {stored!r} is no write sent to it")


def _verify_keyed(
    writes: list[Write], by_ident: dict, stored_map: dict, run_id: str, killed: set, verdict: Verdict
) -> None:
    """Writes that replace one value (a rating, a project's summary): the last one stands."""
    groups: dict[tuple, list[Write]] = defaultdict(list)
    for write in writes:
        groups[write.key].append(write)
    for key, group in sorted(groups.items()):
        where = f"{key[0]} {key[1]}"
        stored = stored_map.get(key)
        final = _stored_write(by_ident, key, stored, run_id)
        if final is not None and final.outcome == REJECTED:
            verdict.phantom.append(f"{where}: {final.ident} was refused with {final.status}, yet is stored")
        for write in group:
            _verify_one_keyed(write, final, stored, where, killed, verdict)
        _verify_if_match(group, where, verdict)


def _verify_one_keyed(write: Write, final, stored, where: str, killed: set, verdict: Verdict) -> None:
    """One write to a value whose stored write is ``final``: an unknown one counted by what
    became of it; an acknowledged one overwritten only by a write that may have committed later."""
    if write.outcome == UNKNOWN:
        if write is final:
            verdict.unknown_landed += 1
        elif (write.writer, write.seq) in killed:
            verdict.unknown_not_landed += 1  # its transaction never committed
        else:
            verdict.unknown_undetermined += 1
    if write.outcome != ACK or write is final:
        return
    if final is None:
        shown = "nothing" if stored is None else repr(_text(stored)[:60])
        verdict.lost.append(f"{where}: {write.ident} acknowledged, but {shown} is stored")
    elif final.outcome == ACK and final.ended < write.started:
        verdict.lost.append(
            f"{where}: {write.ident} acknowledged, but {final.ident} is stored, which was "
            "acknowledged before it was sent"
        )
    elif final.outcome != ACK:
        verdict.superseded_by_unknown += 1


def _verify_if_match(group: list[Write], where: str, verdict: Verdict) -> None:
    """If-Match: of the writes that read one version, at most one may replace it."""
    versions: dict[str, list[Write]] = defaultdict(list)
    for write in group:
        if write.outcome == ACK and write.if_match:
            versions[write.if_match].append(write)
    for version, based in sorted(versions.items()):
        if len(based) > 1:
            idents = ", ".join(w.ident for w in sorted(based, key=lambda w: w.started))
            verdict.lost_updates.append(
                f"{where}: {idents} were all acknowledged with If-Match {version}: all but one "
                "overwrote a version they had not read"
            )


def _verify_posts(
    writes: list[Write], projects: dict, verdict: Verdict, rewritten: set[str] = frozenset()
) -> None:
    for write in writes:
        stored = projects.get(write.slug)
        if stored is None:
            if write.outcome == ACK:
                verdict.lost.append(f"{write.slug}: POST {write.ident} acknowledged, project missing")
            elif write.outcome == UNKNOWN:
                verdict.unknown_not_landed += 1
            continue
        if write.outcome == REJECTED:
            verdict.phantom.append(f"{write.slug}: POST {write.ident} was refused with {write.status}")
        elif write.outcome == UNKNOWN:
            verdict.unknown_landed += 1
        _verify_created(write, stored, verdict, write.slug in rewritten)


def _verify_created(write: Write, stored: dict, verdict: Verdict, rewritten: bool) -> None:
    """The stored project is the one the POST sent, whole: its name, its ratings, one card."""
    ratings = {code: tuple(value) for code, value in stored["ratings"].items()}
    if stored["name"] != write.name or ratings != write.value:
        missing = sorted(set(write.value) - set(ratings))
        verdict.half_written.append(
            f"{write.slug}: stored project differs from POST {write.ident} "
            f"({len(ratings)} of {len(write.value)} ratings; missing {missing[:5]})"
        )
    # A later PUT or PATCH rescores it (an unchanged card may be stored again): count only before.
    if not rewritten and stored["history"] != 1:
        verdict.half_written.append(
            f"{write.slug}: {stored['history']} score cards for a project written in one transaction"
        )


def _verify_bursts(writes: list[Write], projects: dict, verdict: Verdict, rewritten: set[str]) -> None:
    """Concurrent creates of one slug: exactly one may win (201), the others are told 409, and the
    stored project is the winner's, whole."""
    groups: dict[str, list[Write]] = defaultdict(list)
    for write in writes:
        groups[write.slug].append(write)
    for slug, group in sorted(groups.items()):
        verdict.bursts += 1
        created = [w for w in group if w.outcome == ACK]
        verdict.bursts_created += bool(created)
        if len(created) > 1:
            verdict.double_creates.append(
                f"{slug}: {', '.join(w.ident for w in created)} were all answered {created[0].status}"
            )
        for write in group:
            if write.outcome == REJECTED and write.status != 409:
                verdict.wrong_refusals.append(
                    f"{slug}: {write.ident} was refused with {write.status}, not 409"
                )
        stored = projects.get(slug)
        if stored is None:
            verdict.lost += [f"{slug}: POST {w.ident} acknowledged, project missing" for w in created]
            verdict.unknown_not_landed += sum(w.outcome == UNKNOWN for w in group)
            continue
        owners = [w for w in group if w.name == stored["name"]]
        if not owners:
            verdict.half_written.append(f"{slug}: stored name {stored['name']!r} is no POST's")
            continue
        owner = owners[0]
        if owner.outcome == REJECTED:
            verdict.phantom.append(
                f"{slug}: POST {owner.ident} was refused with {owner.status}, yet is stored"
            )
        elif created and owner is not created[0]:
            verdict.lost.append(f"{slug}: POST {created[0].ident} answered 201, but {owner.ident} is stored")
        verdict.unknown_landed += owner.outcome == UNKNOWN
        verdict.unknown_not_landed += sum(w.outcome == UNKNOWN and w is not owner for w in group)
        _verify_created(owner, stored, verdict, slug in rewritten)


def socket_inodes(tcp_table: str, local_port: int, remote_port: int) -> set[int]:
    """Inodes of the TCP sockets in /proc/net/tcp text with these local and remote ports."""
    inodes = set()
    for line in tcp_table.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10:
            continue
        local, remote = parts[1].rsplit(":", 1), parts[2].rsplit(":", 1)
        if int(local[1], 16) == local_port and int(remote[1], 16) == remote_port:
            inodes.add(int(parts[9]))
    return inodes


def loopback_url(url: str, what: str) -> str:
    """The URL, if its host is 127.0.0.1; this proof never talks to another address."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or parts.hostname != HOST:
        raise ValueError(f"{what} must be a postgres:// URL on {HOST}, not {url!r}")
    return url


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(port: int, method: str, path: str, *, key: str | None = None, body=None, headers=None) -> Answer:
    """One request on a new connection (gunicorn's sync workers close each one), with a timeout."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        sent = {"Accept": "application/json", **(headers or {})}
        if key:
            sent["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


FAILURES = (OSError, http.client.HTTPException)


class Tally:
    """Requests answered by kind, and errors by kind, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served: Counter = Counter()
        self.errors: Counter = Counter()
        self.conflicts: Counter = Counter()  # 412 on a rating or project write: re-read and retried
        self.server_errors: Counter = Counter()  # 5xx answers by kind of request
        self.phase = BEFORE_CUT  # of the cache: moved by the cache cutter
        self.by_phase: Counter = Counter()  # (phase, "answers" | "5xx" | "no answer") -> requests

    def answer(self, kind: str, status: int, expected: tuple[int, ...]) -> None:
        with self.lock:
            self.served[kind] += 1
            self.by_phase[self.phase, "answers"] += 1
            if status >= 500:
                self.server_errors[kind] += 1
                self.by_phase[self.phase, "5xx"] += 1
            if kind in KEYED and status == 412:
                self.conflicts[kind] += 1
            elif status not in expected:
                self.errors[f"HTTP {status} on {kind}"] += 1

    def failure(self, kind: str, exc: BaseException) -> None:
        with self.lock:
            self.errors[f"{error_kind(exc)} on {kind}"] += 1
            self.by_phase[self.phase, "no answer"] += 1


# ---------------------------------------------------------------------------------------------
# Processes


def process_with_socket(pids: list[int], inodes: set[int]) -> int | None:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                        return pid
    return None


# ---------------------------------------------------------------------------------------------
# The run


class Proof:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_id = secrets.token_hex(3)
        self.seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
        self.port = args.port or free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="sdgscore-proof-"))
        self.created_database: str | None = None
        self.database_url = args.database_url
        self.server: subprocess.Popen | None = None
        self.server_log = self.workdir / "gunicorn.log"
        self.key = ""  # write scope: sees drafts
        self.read_key = ""  # read scope: sees what the public sees
        self.env: dict[str, str] = {}
        self.tally = Tally()
        self.leaks = LeakCheck(self.run_id)
        self.writes: list[list[Write]] = [[] for _ in range(args.writers)]
        self.bursts: list[Write] = []
        self.lock = threading.Lock()  # bursts, created, records
        self.fault_lock = threading.Lock()  # one worker stopped at a time, by the killer or db_faulter
        self.kills: list[Kill] = []
        self.db_faults: list[Kill] = []
        self.own_backends: set[int] = set()  # the proof's own monitoring connections: never terminated
        self.created: list[str] = []  # slugs of acknowledged POSTs (drafts), for readers
        self.records: dict[str, dict] = {}  # slug -> its record without ratings, for project PUTs
        self.acks_showing_other = 0
        self.crashes: list[str] = []  # threads of this proof that died of an exception
        self.stop = threading.Event()
        self.deadline = 0.0
        self.slugs: list[str] = []  # published projects the API writers change (never published again)
        self.editor_slugs: list[str] = []  # published projects the analyst changes, the reviewer publishes
        self.codes: list[str] = []
        self.proxy: CacheProxy | None = None
        self.cache_times: dict[str, float] = {}
        self.health: list[tuple[str, int | None, str]] = []  # (cache phase, status, "status" field)
        self.editors: dict[str, subprocess.Popen] = {}

    # -- setup ------------------------------------------------------------------------------

    def setup(self) -> None:
        import psycopg

        if self.database_url:
            loopback_url(self.database_url, "--database-url")
        else:
            admin = loopback_url(self.args.postgres, "--postgres")
            name = f"sdgscore_proof_{os.getpid()}"
            with psycopg.connect(
                with_database(admin, "postgres"), autocommit=True, connect_timeout=10
            ) as conn:
                conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
            self.created_database = name
            self.database_url = with_database(admin, name)
        (self.workdir / "static").mkdir()
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}},
            "DJANGO_SETTINGS_MODULE": "sdgscore.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": self.database_url,
            "API_ANONYMOUS_RATE": "1000000/minute",
            "STATIC_ROOT": str(self.workdir / "static"),
            "PYTHONUNBUFFERED": "1",
        }
        if self.args.cache_outage:
            self.flush_cache()
            self.proxy = CacheProxy((HOST, self.args.redis_port), HOST).start()
            self.env["REDIS_URL"] = f"redis://{HOST}:{self.proxy.port}/{self.args.redis_db}"
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")  # the public pages name their files by hash
        self.manage("load_demo")
        self.key = self.issue_key("load proof writer", "write")
        self.read_key = self.issue_key("load proof reader", "read")

    def issue_key(self, name: str, scope: str) -> str:
        out = self.manage(
            "issue_api_key", name, "--owner", "demo-analyst", "--scope", scope, "--rate", "1000000/minute"
        )
        return out.strip().splitlines()[-1]

    def flush_cache(self) -> None:
        """Empty the proof's own Redis database (--redis-db): a fresh database's site generations
        start again at 1, and an earlier run's cached answers must not match them."""
        import redis

        client = redis.Redis(host=HOST, port=self.args.redis_port, db=self.args.redis_db, socket_timeout=2)
        try:
            client.flushdb()
        except redis.RedisError as exc:
            raise RuntimeError(
                f"Redis on {HOST}:{self.args.redis_port} is needed for the cache outage "
                f"(or run with --no-cache-outage): {exc}"
            ) from None
        finally:
            client.close()

    def manage(self, *arguments: str) -> str:
        result = subprocess.run(  # noqa: S603 (this checkout's manage.py, our own arguments)
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {arguments[0]} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start_server(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "sdgscore.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.args.workers),
            "--graceful-timeout",
            "2",
            "--timeout",
            "30",
            "--error-logfile",
            "-",
        ]
        with open(self.server_log, "wb") as log:
            self.server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.server_log.read_text()[-3000:]}")
            with contextlib.suppress(*FAILURES):
                if call(self.port, "GET", "/healthz").status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def learn(self) -> None:
        projects = call(self.port, "GET", "/api/v1/projects?page_size=200").json()["results"]
        published = sorted(p["slug"] for p in projects if p["state"] == "published")
        methods = call(self.port, "GET", "/api/v1/methodologies").json()["results"]
        self.codes = [criterion["code"] for criterion in methods[0]["criteria"]]
        if len(published) < 6 or not self.codes:
            raise RuntimeError("fewer than 6 published projects or no criteria after load_demo")
        # The editors' projects are published during the run, the API writers' never: a draft
        # marker of an API write may then never be public, whenever it is read.
        reserve = random.Random(f"{self.seed}-reserve")  # noqa: S311 (load, not secrets)
        if self.args.editors:
            self.editor_slugs = sorted(reserve.sample(published, EDITOR_PROJECTS))
        self.slugs = [slug for slug in published if slug not in self.editor_slugs]
        export = call(self.port, "GET", "/api/v1/export/projects.json").json()
        for record in export["projects"]:
            if record["slug"] in self.slugs:
                self.records[record["slug"]] = _without_ratings(record)

    def stop_server(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            stop_processes([server], grace=10, kill_group=True)  # gunicorn ends its workers

    def drop_database(self) -> None:
        if not self.created_database:
            return

        drop_postgres_database(self.args.postgres, self.created_database)
        self.created_database = None

    # -- the editors (analyst and reviewer processes) ------------------------------------------

    def start_editors(self) -> None:
        if not self.editor_slugs:
            return
        for role in ("analyst", "reviewer"):
            with open(self.workdir / f"{role}.log", "wb") as log:
                self.editors[role] = subprocess.Popen(  # noqa: S603 (this package's module, our arguments)
                    [
                        sys.executable,
                        "-m",
                        "proof.editors",
                        role,
                        "--run",
                        self.run_id,
                        "--slugs",
                        ",".join(self.editor_slugs),
                        "--out",
                        str(self.workdir / f"{role}.jsonl"),
                        "--stop",
                        str(self.workdir / "stop"),
                        "--seed",
                        str(self.seed),
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

    def stop_editors(self) -> None:
        (self.workdir / "stop").touch()
        for role, process in self.editors.items():
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait(timeout=10)
                self.crashes.append(f"the {role} process did not stop; killed")
                continue
            if code != 0:
                log = (self.workdir / f"{role}.log").read_text(errors="replace")[-2000:]
                self.crashes.append(f"the {role} process exited with {code}: {log}")

    def editor_events(self, role: str) -> list[dict]:
        return read_events(self.workdir / f"{role}.jsonl")

    # -- load -------------------------------------------------------------------------------

    def time_up(self) -> bool:
        return self.stop.is_set() or time.monotonic() >= self.deadline

    def reader(self, index: int) -> None:
        rng = random.Random(f"{self.seed}-r{index}")  # noqa: S311 (load, not secrets)
        client = ("anonymous", "read key", "write key")[index % 3]
        key = {"anonymous": None, "read key": self.read_key, "write key": self.key}[client]
        public = key != self.key
        published = [*self.slugs, *self.editor_slugs]
        while not self.time_up():
            # Half the time a project the reviewer publishes: its markers show up as it does.
            slug = rng.choice(self.editor_slugs if self.editor_slugs and rng.random() < 0.5 else published)
            path = rng.choice(
                [
                    "/api/v1/projects?page_size=50",
                    "/api/v1/projects?ordering=-net_score&target_body=moon",
                    "/api/v1/projects?operator_country=JP",  # the proof's drafts have a Japanese operator
                    f"/api/v1/projects/{slug}",
                    f"/api/v1/projects/{slug}/assessments",
                    f"/api/v1/projects/{slug}/scores",
                    "/api/v1/rankings",
                    "/api/v1/operators",
                    "/api/v1/sync/projects?page_size=100",
                    "/api/v1/export/projects.json",
                    "/api/v1/export/scores.csv",
                    "/en/",
                    f"/en/projects/{slug}/",
                ]
            )
            expected: tuple[int, ...] = (200,)
            with self.lock:
                draft = rng.choice(self.created) if self.created and rng.random() < 0.2 else None
            if draft:  # a draft: a write key sees it, the public is told it does not exist
                path = rng.choice(
                    [
                        f"/api/v1/projects/{draft}",
                        f"/api/v1/projects/{draft}/assessments",
                        f"/en/projects/{draft}/",
                    ]
                )
                expected = (404,) if public or path.startswith("/en/") else (200,)  # pages: public only
            html = path.startswith("/en/")
            try:
                answer = call(
                    self.port, "GET", path, key=key, headers={"Accept": "text/html"} if html else None
                )
            except FAILURES as exc:
                self.tally.failure(PUBLIC_READ if public else READ, exc)
                time.sleep(0.05)
                continue
            self.tally.answer(PUBLIC_READ if public else READ, answer.status, expected)
            if public and answer.status < 500:
                self.leaks.check(client, path, answer.body)

    def writer(self, index: int) -> None:
        rng = random.Random(f"{self.seed}-w{index}")  # noqa: S311 (load, not secrets)
        seq = itertools.count(1)
        hot = [(self.slugs[0], self.codes[0]), (self.slugs[-1], self.codes[-1])]
        while not self.time_up():
            choice = rng.random()
            if choice < POST_SHARE:
                self.post_project(index, rng, next(seq))
            elif choice < POST_SHARE + FACT_SHARE:
                with self.lock:
                    targets = [*self.slugs, *self.created]
                # One hot project, so that project writes collide on If-Match too.
                self.write_facts(
                    index, rng, seq, self.slugs[1] if rng.random() < 0.4 else rng.choice(targets)
                )
            elif rng.random() < HOT_SHARE:
                self.put_rating(index, rng, seq, *rng.choice(hot))
            else:
                self.put_rating(index, rng, seq, rng.choice(self.slugs), rng.choice(self.codes))

    @staticmethod
    def rating_body(rng: random.Random, tag: str) -> dict:
        if rng.random() < 0.1:
            return {"not_applicable": True, "evidence": f"{tag} Load proof: not applicable."}
        level, grade = rng.randint(0, 4), rng.choice("ABCD")
        return {
            "rating": level,
            "evidence": f"{tag} Load proof: level {level}.",
            "evidence_grade": grade,
            "source_url": "https://example.org/proof-evidence",  # grades A and B need one
        }

    def put_rating(self, index: int, rng: random.Random, seq, slug: str, code: str) -> None:
        path = f"/api/v1/projects/{slug}/assessments/{code}"
        for _ in range(PUT_TRIES):
            if self.time_up():
                return
            try:
                answer = call(self.port, "GET", path, key=self.key)
            except FAILURES as exc:
                self.tally.failure(ETAG_READ, exc)
                return
            self.tally.answer(ETAG_READ, answer.status, (200, 404))
            if answer.status not in (200, 404):
                return
            etag = answer.headers.get("ETag") if answer.status == 200 else None
            number = next(seq)
            body = self.rating_body(rng, tag_for(self.run_id, index, number))
            write = Write(index, number, PUT, slug, code, rating_value(body), if_match=etag)
            answer = self.send(write, "PUT", path, body, (200, 201))
            if answer is None:
                return
            if write.outcome == ACK and _field(answer, "evidence") != body["evidence"]:
                self.acks_showing_other += 1
            if answer.status != 412:
                return

    def write_facts(self, index: int, rng: random.Random, seq, slug: str) -> None:
        """A project PUT (the whole record) or PATCH (the summary) with If-Match, retried on 412."""
        path = f"/api/v1/projects/{slug}"
        for _ in range(PUT_TRIES):
            if self.time_up():
                return
            try:
                answer = call(self.port, "GET", path, key=self.key)
            except FAILURES as exc:
                self.tally.failure(ETAG_READ, exc)
                return
            self.tally.answer(ETAG_READ, answer.status, (200,))
            if answer.status != 200:
                return
            number = next(seq)
            summary = f"{tag_for(self.run_id, index, number)} Summary rewritten through the API."
            with self.lock:
                record = self.records.get(slug)
            if record is not None and rng.random() < 0.5:
                kind, method, body = PROJECT_PUT, "PUT", {**record, "summary": summary}
            else:
                kind, method, body = PATCH, "PATCH", {"summary": summary}
            write = Write(index, number, kind, slug, SUMMARY, summary, if_match=answer.headers.get("ETag"))
            answer = self.send(write, method, path, body, (200,))
            if answer is None or answer.status != 412:
                return

    def send(
        self, write: Write, method: str, path: str, body: dict, expected: tuple[int, ...]
    ) -> Answer | None:
        """Send one recorded write (with its If-Match); None when no answer came."""
        self.writes[write.writer].append(write)
        write.started = time.monotonic()
        try:
            answer = call(
                self.port,
                method,
                path,
                key=self.key,
                body=body,
                headers={"If-Match": write.if_match} if write.if_match else {},
            )
        except FAILURES as exc:
            write.ended = time.monotonic()
            self.tally.failure(write.kind, exc)
            return None
        write.ended, write.status = time.monotonic(), answer.status
        write.outcome = write_outcome(answer.status)
        self.tally.answer(write.kind, answer.status, expected)
        return answer

    def project_record(self, rng: random.Random, slug: str, tag: str, title: str) -> dict:
        items = [
            {"criterion": code, **self.rating_body(rng, tag)}
            for code in rng.sample(self.codes, rng.randint(5, len(self.codes)))
        ]
        return {
            "slug": slug,
            "name": f"{tag} {title}",
            "operator": OPERATOR,
            "target_body": rng.choice(["moon", "mars", "near_earth_asteroid"]),
            "phase": "concept",
            "origin": "synthetic",
            "summary": f"{tag} A synthetic project written by the load-and-faults proof.",
            "assessments": items,
        }

    def post_project(self, index: int, rng: random.Random, number: int) -> None:
        tag = tag_for(self.run_id, index, number)
        slug = f"proof-{self.run_id}-w{index}-s{number}"
        record = self.project_record(rng, slug, tag, "Load proof project")
        write = _created(index, number, POST, record)
        self.writes[index].append(write)
        self.post(write, record, (201,))

    def post(self, write: Write, record: dict, expected: tuple[int, ...]) -> None:
        write.started = time.monotonic()
        try:
            answer = call(self.port, "POST", "/api/v1/projects", key=self.key, body=record)
        except FAILURES as exc:
            write.ended = time.monotonic()
            self.tally.failure(write.kind, exc)
            return
        write.ended, write.status = time.monotonic(), answer.status
        write.outcome = write_outcome(answer.status)
        self.tally.answer(write.kind, answer.status, expected)
        if write.outcome == ACK:
            with self.lock:
                self.created.append(write.slug)
                self.records[write.slug] = _without_ratings(record)

    def burster(self, _: int) -> None:
        """Bursts of concurrent creates of one new slug: one 201, 409 for the others."""
        for number in itertools.count(1):
            if self.time_up():
                return
            slug = f"proof-{self.run_id}-b{number}"
            barrier = threading.Barrier(BURST_SIZE)
            threads = [
                threading.Thread(target=self.burst_post, args=(j, number, slug, barrier), daemon=True)
                for j in range(BURST_SIZE)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=2 * REQUEST_TIMEOUT)
            self.stop.wait(BURST_PAUSE)

    def burst_post(self, j: int, number: int, slug: str, barrier: threading.Barrier) -> None:
        writer = BURST_WRITER + j
        rng = random.Random(f"{self.seed}-b{number}-{j}")  # noqa: S311 (load, not secrets)
        record = self.project_record(rng, slug, tag_for(self.run_id, writer, number), "Same-slug project")
        write = _created(writer, number, BURST, record)
        with self.lock:
            self.bursts.append(write)
        with contextlib.suppress(threading.BrokenBarrierError):  # then sent anyway, a little apart
            barrier.wait(timeout=5)
        self.post(write, record, (201, 409))

    # -- faults -----------------------------------------------------------------------------

    def monitor(self):
        """A connection of the proof's own to the database (never terminated by db_faulter)."""
        import psycopg

        conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=10)
        with self.lock:
            self.own_backends.add(conn.info.backend_pid)
        return conn

    def killer(self, started: float) -> None:
        with self.monitor() as monitor:
            for number in range(self.args.kills):
                at = started + self.args.seconds * (number + 1) / (self.args.kills + 1)
                if self.stop.wait(max(0.0, at - time.monotonic())):
                    return
                with self.fault_lock:
                    kill = self.kill_one(monitor)
                if kill is not None:
                    self.kills.append(kill)

    def writing_worker(self, monitor, until: float) -> tuple[int, int] | None:
        """(backend, worker pid) of a gunicorn worker inside a write transaction, searched for
        until ``until``; None when none was caught."""
        assert self.server is not None
        while time.monotonic() < until and not self.stop.is_set():
            rows = monitor.execute(
                "SELECT pid, client_port FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND backend_xid IS NOT NULL"
            ).fetchall()
            for backend, client_port in rows:
                if client_port is None:
                    continue
                tcp = Path("/proc/net/tcp").read_text()
                inodes = socket_inodes(tcp, client_port, urlsplit(self.database_url).port or 5432)
                worker = process_with_socket(children(self.server.pid), inodes)
                if worker is not None:
                    return backend, worker
            time.sleep(0.002)
        return None

    def stopped_writer(self, monitor, *, inside: bool) -> tuple[int, int, str | None] | None:
        """A gunicorn worker caught in a write transaction within KILL_SEARCH and SIGSTOPped:
        (backend, worker, its backend's settled state). With ``inside``, only one whose
        transaction is still open once stopped (one caught committing is resumed, and the search
        goes on). None when none was caught; the caller resumes or kills the worker."""
        until = time.monotonic() + KILL_SEARCH
        while (caught := self.writing_worker(monitor, until)) is not None:
            backend, worker = caught
            try:
                os.kill(worker, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            try:
                state = self.settled_state(monitor, backend)
            except BaseException:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker, signal.SIGCONT)
                raise
            if not inside or state == "idle in transaction" or time.monotonic() >= until:
                return backend, worker, state
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGCONT)
        return None

    def kill_one(self, monitor) -> Kill | None:
        """SIGKILL a worker, inside a write transaction when one is caught within KILL_SEARCH (and
        surely inside one, while fewer than --min-in-transaction kills have landed there)."""
        assert self.server is not None
        inside = sum(kill.where == IN_TRANSACTION for kill in self.kills) < self.args.min_in_transaction
        caught = self.stopped_writer(monitor, inside=inside)
        if caught is not None:
            _, worker, state = caught
            at = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
            return Kill(at, WHERE.get(state or "", f"backend {state or 'gone'}"))
        workers = children(self.server.pid)
        if self.stop.is_set() or not workers:
            return None
        at = time.monotonic()
        try:
            os.kill(random.choice(workers), signal.SIGKILL)  # noqa: S311
        except ProcessLookupError:
            return None
        return Kill(at, "at a random moment (no write transaction caught)")

    def db_faulter(self, started: float) -> None:
        """Database-side faults: the database terminates backends of the proof's database, half
        of them inside a worker's write transaction, half whichever backend (idle ones too)."""
        with self.monitor() as monitor:
            for number in range(self.args.db_faults):
                # Between the kills, so that each fault is seen on its own.
                at = started + self.args.seconds * (number + 0.5) / (self.args.db_faults + 0.5)
                if self.stop.wait(max(0.0, at - time.monotonic())):
                    return
                with self.fault_lock:
                    fault = self.terminate_one(monitor, inside_write=number % 2 == 0)
                if fault is not None:
                    self.db_faults.append(fault)

    def terminate_one(self, monitor, *, inside_write: bool) -> Kill | None:
        # Paused so that the state read is the state terminated (and the write is then in flight,
        # unanswered, as the verdict expects of a write killed inside its transaction).
        caught = self.stopped_writer(monitor, inside=True) if inside_write else None
        if caught is not None:
            backend, worker, state = caught
            try:
                at = time.monotonic()
                monitor.execute("SELECT pg_terminate_backend(%s)", (backend,))
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker, signal.SIGCONT)
            return Kill(at, WHERE.get(state or "", f"backend {state or 'gone'}"))
        with self.lock:
            own = sorted(self.own_backends)
        rows = monitor.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> ALL(%s)",
            (own,),
        ).fetchall()
        if not rows:
            return None
        backend, state = random.choice(rows)  # noqa: S311
        at = time.monotonic()
        monitor.execute("SELECT pg_terminate_backend(%s)", (backend,))
        return Kill(at, f"any backend ({state})")

    @staticmethod
    def settled_state(monitor, backend: int) -> str | None:
        """The backend's state once the statement it may be running is done (the worker is stopped)."""
        until = time.monotonic() + SETTLE
        state = None
        while time.monotonic() < until:
            row = monitor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone()
            state = row[0] if row else None
            if state != "active":
                return state
            time.sleep(0.005)
        return state

    def cache_cutter(self, started: float) -> None:
        """Redis unreachable for a while mid-run: connections refused, then unanswered, then back."""
        if self.proxy is None:
            return
        steps = [
            (CUT_AT, CACHE_CUT, REFUSE),
            (BLACKHOLE_AT, CACHE_CUT, BLACKHOLE),
            (RESTORE_AT, AFTER_CUT, None),
        ]
        for share, phase, mode in steps:
            if self.stop.wait(max(0.0, started + self.args.seconds * share - time.monotonic())):
                return
            if mode is None:
                self.proxy.restore()
            else:
                self.proxy.cut(mode)
            self.tally.phase = phase
            self.cache_times.setdefault(phase, time.monotonic() - started)

    def health_poller(self, _: int) -> None:
        while not self.time_up():
            phase = self.tally.phase
            try:
                answer = call(self.port, "GET", "/healthz")
                status, state = answer.status, str(_field(answer, "status"))
            except FAILURES as exc:
                status, state = None, error_kind(exc)
            if self.tally.phase == phase:  # an answer across a cut or a restore says nothing
                self.health.append((phase, status, state))
            self.stop.wait(HEALTH_EVERY)

    # -- the whole run ----------------------------------------------------------------------

    def load(self) -> int:
        """Readers, writers and the faults for --seconds; the number of workers alive at the end."""
        self.start_editors()
        started = time.monotonic()
        self.deadline = started + self.args.seconds
        threads = [self.thread(self.reader, i) for i in range(self.args.readers)]
        threads += [self.thread(self.writer, i) for i in range(self.args.writers)]
        threads += [self.thread(self.burster, 0), self.thread(self.health_poller, 0)]
        faults = [self.thread(f, started) for f in (self.killer, self.db_faulter, self.cache_cutter)]
        for thread in [*threads, *faults]:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, self.deadline - time.monotonic()) + PUT_TRIES * 2 * REQUEST_TIMEOUT)
        self.stop.set()
        for thread in faults:
            thread.join(timeout=KILL_SEARCH + 5)
        self.stop_editors()
        assert self.server is not None
        until = time.monotonic() + 20  # gunicorn's master starts a worker for each killed one
        while len(children(self.server.pid)) < self.args.workers and time.monotonic() < until:
            time.sleep(0.2)
        return len(children(self.server.pid))

    def thread(self, target, argument) -> threading.Thread:
        """A daemon thread whose crash is reported (the run is then incomplete), not silent."""

        def run() -> None:
            try:
                target(argument)
            except Exception:
                self.crashes.append(f"{target.__name__} {argument}: {traceback.format_exc(limit=3)}")

        return threading.Thread(target=run, name=f"{target.__name__}-{argument}", daemon=True)

    def quiesce(self) -> None:
        """Wait until no backend of a killed worker is still open on the database."""
        with self.monitor() as conn:
            until = time.monotonic() + 15
            while time.monotonic() < until:
                (others,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ).fetchone()
                if others == 0:
                    return
                time.sleep(0.1)

    def dump(self) -> dict:
        out = self.workdir / "state.json"
        result = subprocess.run(  # noqa: S603 (this module, fixed arguments)
            [sys.executable, "-m", "proof.load_faults", "--dump-state", str(out)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"reading the stored state failed:\n{result.stderr[-3000:]}")
        return json.loads(out.read_text())

    def execute(self) -> int:
        args = self.args
        print(
            f"Load and faults: {args.seconds} s, {args.workers} gunicorn workers on {HOST}:{self.port}, "
            f"{args.readers} readers, {args.writers} writers, {args.kills} SIGKILLs (at least "
            f"{args.min_in_transaction} inside a write transaction), {args.db_faults} backends "
            f"terminated, cache outage {'on' if args.cache_outage else 'off'}, seed {self.seed}, "
            f"run {self.run_id}",
            flush=True,
        )
        self.setup()
        print(f"database: {urlsplit(self.database_url).path.lstrip('/')} (migrated, demo loaded)", flush=True)
        self.start_server()
        self.learn()
        alive = self.load()
        self.stop_server()
        self.quiesce()
        state = self.dump()
        writes = [write for per_writer in self.writes for write in per_writer] + self.bursts
        verdict = verify_writes(writes, state["projects"], self.run_id, [*self.kills, *self.db_faults])
        log = self.server_log.read_text(errors="replace")
        findings = Findings(self, verdict, state, log)
        incomplete = findings.proved_nothing(self, alive)
        failed = self.report(verdict, state, alive, findings, incomplete)
        return 1 if failed else 2 if incomplete else 0

    def report(
        self, verdict: Verdict, state: dict, alive: int, findings: Findings, incomplete: list[str]
    ) -> bool:
        tally, counts = self.tally, verdict.counts
        served = sum(tally.served.values())
        print(f"requests served: {served} ({_join(tally.served)})")
        print(
            "412 on writes with If-Match (stale ETag, re-read and retried): "
            f"{_join(tally.conflicts) or 'none'}"
        )
        print(f"errors by kind: {_join(tally.errors) or 'none'}")
        kinds = Counter(kill.where for kill in self.kills)
        print(f"worker kills (SIGKILL): {len(self.kills)}; {_join(kinds) or 'none'}")
        print(
            f"workers alive at the end: {alive} of {self.args.workers}; gunicorn reported "
            f"{findings.log.count('was sent SIGKILL')} killed"
        )
        terminated = Counter(fault.where for fault in self.db_faults)
        print(
            f"backends terminated by the database (pg_terminate_backend): {len(self.db_faults)}; "
            f"{_join(terminated) or 'none'}"
        )
        acknowledged = sum(n for (kind, outcome), n in counts.items() if outcome == ACK)
        refused = sum(n for (kind, outcome), n in counts.items() if outcome == REJECTED)
        by_kind = Counter({kind: n for (kind, outcome), n in counts.items() if outcome == ACK})
        print(
            f"writes acknowledged: {acknowledged} ({_join(by_kind)}); "
            f"refused (4xx, changed nothing): {refused}"
        )
        unknown = sum(n for (kind, outcome), n in counts.items() if outcome == UNKNOWN)
        print(
            f"writes of unknown outcome (no answer or 5xx): {unknown}: {verdict.unknown_landed} landed, "
            f"{verdict.unknown_not_landed} did not, {verdict.unknown_undetermined} overwritten since"
        )
        print(
            f"acknowledged writes overwritten by a write of unknown outcome: {verdict.superseded_by_unknown}"
        )
        print(f"acknowledged rating answers showing a later write's value: {self.acks_showing_other}")
        print(f"writes lost: {len(verdict.lost)}")
        print(f"lost updates (two acknowledged writes on one If-Match version): {len(verdict.lost_updates)}")
        print(
            f"writes killed or terminated inside their open transaction: {verdict.killed_uncommitted}; "
            f"refused or killed writes stored anyway: {len(verdict.phantom)}"
        )
        print(f"half-written changes: {len(verdict.half_written)}")
        print(
            f"same-slug bursts: {verdict.bursts} slugs POSTed by {BURST_SIZE} clients at once; created once: "
            f"{verdict.bursts_created}; 409: {counts[BURST, REJECTED]}; created twice: "
            f"{len(verdict.double_creates)}; refused otherwise than 409: {len(verdict.wrong_refusals)}"
        )
        findings.report_leaks()
        findings.report_editors()
        findings.report_cache(self)
        findings.report_server_errors(self)
        print(
            f"score cards checked: {state['cards_checked']} current ones against the engine, "
            f"{state['history_checked']} in histories; mismatches: {len(state['card_mismatches'])}; "
            f"columns differing from their card: {len(state['column_mismatches'])}; "
            f"current card not the newest: {len(state['stale_current'])}"
        )
        print(f"repeated consecutive history cards (informational): {state['history_repeats']}")
        violations = {name: n for name, n in state["constraint_violations"].items() if n}
        print(f"constraint violations: {_join(violations) or 'none'}")
        details = (
            verdict.lost
            + verdict.lost_updates
            + verdict.phantom
            + verdict.half_written
            + verdict.double_creates
            + verdict.wrong_refusals
            + findings.problems
            + state["card_mismatches"]
            + state["column_mismatches"]
            + state["stale_current"]
        )
        for line in details[:20]:
            print(f"  {line}")
        if len(details) > 20:
            print(f"  ... and {len(details) - 20} more")
        for line in incomplete:
            print(f"proved nothing: {line}")
        failed = bool(verdict.failures or state_failures(state) or findings.problems)
        print("RESULT:", "FAIL" if failed else "PROVED NOTHING" if incomplete else "PASS", flush=True)
        return failed

    def cleanup(self) -> None:
        self.stop.set()
        with contextlib.suppress(Exception):
            (self.workdir / "stop").touch()
        for process in self.editors.values():
            with contextlib.suppress(Exception):
                process.kill()
                process.wait(timeout=10)
        with contextlib.suppress(Exception):
            self.stop_server()
        if self.proxy is not None:
            self.proxy.stop()
            with contextlib.suppress(Exception):
                self.flush_cache()
        try:
            self.drop_database()
        finally:
            if self.args.keep_logs:
                print(f"logs kept in {self.workdir}", file=sys.stderr)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)


def _without_ratings(record: dict) -> dict:
    """A project's record as a PUT sends it: facts only (the ratings stay as they are)."""
    return {k: v for k, v in record.items() if k not in {"assessments", "score", "history"}}


def _created(writer: int, number: int, kind: str, record: dict) -> Write:
    return Write(
        writer,
        number,
        kind,
        record["slug"],
        None,
        {item["criterion"]: rating_value(item) for item in record["assessments"]},
        name=record["name"],
        summary=record["summary"],
    )


class Findings:
    """What the run shows beyond the writes: leaks, the editors, the cache outage, server errors."""

    def __init__(self, proof: Proof, verdict: Verdict, state: dict, log: str) -> None:
        self.log = log
        self.problems: list[str] = list(proof.leaks.leaks)
        self.leaks = proof.leaks
        reviewer, analyst = proof.editor_events("reviewer"), proof.editor_events("analyst")
        proof.crashes += [
            f"the {role}: {e['crash']}"
            for role, events in (("reviewer", reviewer), ("analyst", analyst))
            for e in events
            if "crash" in e
        ]
        self.published = published_markers(reviewer)
        self.problems += proof.leaks.unpublished_shown(self.published)
        self.problems += state["published_drafts"]
        self.analyst = Counter(e["outcome"] for e in analyst if e.get("outcome") not in {None, "attempt"})
        self.reviewer = Counter(
            e["outcome"].split(" #")[0].split(":")[0]
            for e in reviewer
            if e.get("outcome") not in {None, "attempt"}
        )
        self.markers_written = sum(n for (kind, _), n in verdict.counts.items())
        self.facts_acknowledged = verdict.counts[PATCH, ACK] + verdict.counts[PROJECT_PUT, ACK]
        self.bursts_created = verdict.bursts_created
        self.errors = logged_errors(log)
        self.database_errors = [name for name in self.errors if DATABASE_CONNECTION.search(name)]
        other = Counter(name for name in self.errors if not DATABASE_CONNECTION.search(name))
        self.problems += [f"server error not caused by a fault: {name} × {n}" for name, n in other.items()]
        self.answered_5xx = sum(proof.tally.server_errors.values())
        if self.answered_5xx > len(self.errors):
            self.problems.append(
                f"{self.answered_5xx} answers were 5xx but the server logged {len(self.errors)} errors"
            )
        self.health = Counter((phase, status, state) for phase, status, state in proof.health)
        if proof.proxy is not None:
            if not self.health[CACHE_CUT, 200, "degraded"]:
                self.problems.append("/healthz never said degraded while Redis was cut off")
            if not self.health[AFTER_CUT, 200, "ok"]:
                self.problems.append("/healthz never said ok again after Redis came back")

    def proved_nothing(self, proof: Proof, alive: int) -> list[str]:
        """Why the run, though nothing failed, did not show what it is there to show."""
        found = proof.crashes + faults_shortfall(proof.args, proof.kills, proof.db_faults, alive)
        if not self.leaks.reads:
            found.append("no public answer was checked for draft markers")
        if proof.editor_slugs and not self.leaks.published_seen:
            found.append("the public readers never saw a publication of the analyst's changes")
        if not self.bursts_created:
            found.append("no same-slug burst created its project")
        if not self.facts_acknowledged:
            found.append("no project PUT or PATCH was acknowledged")
        if proof.proxy is not None and not self.health[BEFORE_CUT, 200, "ok"]:
            found.append("/healthz never said ok before the cut: the server did not use Redis")
        return found

    def report_leaks(self) -> None:
        leaks = self.leaks
        print(
            f"public answers checked for draft markers: {leaks.reads} ({_join(leaks.checked)}); "
            f"API writes carrying a draft marker: {self.markers_written}; draft markers in public answers "
            f"(leaks): {len(leaks.leaks)}"
        )
        unpublished = len(leaks.unpublished_shown(self.published))
        print(
            f"analyst's markers seen publicly: {len(leaks.published_seen)} (of {len(self.published)} in "
            f"publications); seen before any publication included them: {unpublished}"
        )

    def report_editors(self) -> None:
        print(
            f"analyst (demo-analyst, shell): {_join(self.analyst) or 'no change'}; reviewer "
            f"(demo-reviewer, shell, with the preview's digest): {_join(self.reviewer) or 'nothing'}"
        )

    def report_cache(self, proof: Proof) -> None:
        if proof.proxy is None:
            print("cache outage: not run (--no-cache-outage)")
            return
        times, by_phase = proof.cache_times, proof.tally.by_phase
        print(
            f"cache outage: Redis cut at {times.get(CACHE_CUT, 0):.1f} s (refused, then unanswered), back "
            f"at {times.get(AFTER_CUT, 0):.1f} s; while cut: {by_phase[CACHE_CUT, 'answers']} answers, "
            f"{by_phase[CACHE_CUT, '5xx']} of them 5xx, {by_phase[CACHE_CUT, 'no answer']} without an answer"
        )
        for phase in (BEFORE_CUT, CACHE_CUT, AFTER_CUT):
            seen = Counter(
                {f"{status} {state}": n for (p, status, state), n in self.health.items() if p == phase}
            )
            print(f"  /healthz with the {phase}: {_join(seen) or 'not asked'}")

    def report_server_errors(self, proof: Proof) -> None:
        print(
            f"5xx answers: {self.answered_5xx} ({_join(proof.tally.server_errors) or 'none'}); server errors "
            f"logged: {len(self.database_errors)} database connection terminated, "
            f"{len(self.errors) - len(self.database_errors)} other"
        )


def faults_shortfall(
    args: argparse.Namespace, kills: list[Kill], db_faults: list[Kill], alive: int
) -> list[str]:
    """Why the faults injected fall short of what the run must show (empty when they do not)."""
    found = []
    inside = sum(kill.where == IN_TRANSACTION for kill in kills)
    if len(kills) < args.kills:
        found.append(f"{len(kills)} of {args.kills} kills done")
    if inside < args.min_in_transaction:
        found.append(
            f"{inside} kills landed inside a write transaction, fewer than {args.min_in_transaction}"
        )
    if alive < args.workers:
        found.append(f"{alive} of {args.workers} workers alive at the end")
    if len(db_faults) < args.db_faults:
        found.append(f"{len(db_faults)} of {args.db_faults} backends terminated")
    if args.db_faults and not any(fault.where == IN_TRANSACTION for fault in db_faults):
        found.append("no backend was terminated inside a write transaction")
    return found


def logged_errors(log: str) -> list[str]:
    """The exception that ended each request answered 500, from the server's log: Django logs
    "Internal Server Error: <path>" and the traceback (of chained exceptions, the last one)."""
    errors: list[str] = []
    current: str | None = None  # the last exception named in the current record, "" before one
    for line in log.splitlines():
        if "Internal Server Error:" in line:
            if current is not None:
                errors.append(current or "unknown")
            current = ""
            continue
        if current is None:
            continue
        match = EXCEPTION_LINE.match(line)
        if match:
            current = match.group(1)
        elif line.startswith("[") or LOG_RECORD.match(line):  # the next record: gunicorn's, Django's
            errors.append(current or "unknown")
            current = None
    if current is not None:
        errors.append(current or "unknown")
    return errors


def _field(answer: Answer, name: str):
    try:
        return answer.json().get(name)
    except (ValueError, AttributeError):
        return None


def _join(counter) -> str:
    return ", ".join(
        f"{kind} {n}" for kind, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    )


def state_failures(state: dict) -> int:
    return (
        len(state["card_mismatches"])
        + len(state["column_mismatches"])
        + len(state["stale_current"])
        + sum(state["constraint_violations"].values())
    )


# ---------------------------------------------------------------------------------------------
# Reading the stored state (runs in a subprocess with the server's settings)


def dump_state(path: str) -> None:
    """Write every project's ratings and the results of the score-card checks to ``path``."""
    import django

    django.setup()
    from django.db.models import Count, F, Q

    from projects import scoring
    from projects.models import Assessment, Project, ScoreCard
    from projects.models.scores import CARD_FIGURES  # the columns a card's figures are copied into
    from projects.selectors import methodology_current
    from projects.services.scoring import method_spec
    from projects.vocabularies import EvidenceGrade

    methodology = methodology_current()
    spec = method_spec(methodology)
    state: dict[str, Any] = {
        "projects": {},
        "cards_checked": 0,
        "history_checked": 0,
        "card_mismatches": [],
        "column_mismatches": [],
        "stale_current": [],
        "history_repeats": 0,
        "published_drafts": [],
    }
    published_texts: dict[str, str] = {}
    history: dict[int, list] = defaultdict(list)
    for card in ScoreCard.objects.select_related("methodology").order_by("project_id", "id"):
        history[card.project_id].append(card)
        state["history_checked"] += 1
        mirror = ScoreCard.from_card(project_id=card.project_id, methodology=card.methodology, card=card.card)
        differing = [name for name in CARD_FIGURES if getattr(card, name) != getattr(mirror, name)]
        if differing:
            state["column_mismatches"].append(
                f"score card {card.pk}: columns {differing} differ from its card"
            )
    ratings: dict[int, dict] = defaultdict(dict)
    for project_id, code, *value in Assessment.objects.filter(criterion__methodology=methodology).values_list(
        "project_id",
        "criterion__code",
        "level",
        "not_applicable",
        "justification",
        "evidence_grade",
        "source_url",
    ):
        ratings[project_id][code] = value
    for project in Project.objects.select_related(
        "operator", "current_score", "publication__ratings_of"
    ).order_by("pk"):
        stored = ratings[project.pk]
        expected = scoring.score(
            spec,
            [
                scoring.Rating(code, level, grade or None, na)
                for code, (level, na, _, grade, _) in stored.items()
            ],
        ).as_dict()
        current = project.current_score
        state["cards_checked"] += 1
        problem = None
        if current is None:
            problem = "has no current score card"
        elif current.project_id != project.pk:
            problem = f"shows score card {current.pk} of another project"
        elif current.methodology_id != methodology.pk:
            problem = f"shows a card under method {current.methodology_id}, not the current one"
        elif current.card != expected:
            problem = (
                f"card {current.pk} says {current.card['overall']} but its ratings give {expected['overall']}"
            )
        if problem:
            state["card_mismatches"].append(f"{project.slug}: {problem}")
        cards = history[project.pk]
        if current is not None and (not cards or cards[-1].pk != current.pk):
            state["stale_current"].append(f"{project.slug}: current card {current.pk} is not its newest")
        state["history_repeats"] += sum(
            1
            for older, newer in itertools.pairwise(cards)
            if (older.methodology_id, older.card) == (newer.methodology_id, newer.card)
        )
        if project.publication_id:
            published_texts[project.slug] = json.dumps(
                [project.facts(), project.publication.frozen_ratings], default=str, ensure_ascii=False
            )
        project.apply_pending()  # the working facts: what the writes changed
        state["projects"][project.slug] = {
            "name": project.name,
            "summary": project.summary,
            "state": project.state,
            "operator": project.operator.name,
            "ratings": stored,
            "history": len(cards),
        }
    # What the public is shown comes from these: no draft marker may be in them.
    for slug, text in published_texts.items():
        if DRAFT in text:
            state["published_drafts"].append(f"{slug}: its published facts or ratings hold a draft marker")
    rated = Assessment.objects.filter(not_applicable=False)
    state["constraint_violations"] = {
        "level outside 0-4": Assessment.objects.filter(Q(level__lt=0) | Q(level__gt=4)).count(),
        "level and not applicable disagree": Assessment.objects.filter(
            Q(not_applicable=True, level__isnull=False) | Q(not_applicable=False, level__isnull=True)
        ).count(),
        "rated without an evidence grade": rated.exclude(evidence_grade__in=EvidenceGrade.values).count(),
        "rated without a justification": rated.filter(justification="").count(),
        "criterion rated twice": Assessment.objects.values("project_id", "criterion_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "current card of another project": Project.objects.filter(current_score__isnull=False)
        .exclude(current_score__project_id=F("pk"))
        .count(),
    }
    Path(path).write_text(json.dumps(state))


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m proof.load_faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the load (default 60)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--readers", type=int, default=4, help="reader threads (default 4)")
    parser.add_argument("--writers", type=int, default=4, help="writer threads (default 4)")
    parser.add_argument("--kills", type=int, default=5, help="workers to SIGKILL during the load (default 5)")
    parser.add_argument(
        "--min-in-transaction",
        type=int,
        default=2,
        help="kills that must land inside an open write transaction, or the run proved nothing (default 2)",
    )
    parser.add_argument(
        "--db-faults",
        type=int,
        default=4,
        help="backends the database terminates during the load (pg_terminate_backend; default 4)",
    )
    parser.add_argument(
        "--cache-outage",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve with Redis through a relay that is cut mid-run (default: on)",
    )
    parser.add_argument("--redis-port", type=int, default=6379, help="Redis on 127.0.0.1 (default 6379)")
    parser.add_argument(
        "--redis-db", type=int, default=12, help="the Redis database the proof owns and empties (default 12)"
    )
    parser.add_argument(
        "--editors",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the analyst and reviewer processes (default: on)",
    )
    parser.add_argument(
        "--database-url",
        help="an existing PostgreSQL database on 127.0.0.1 to use, and keep; "
        "default: a fresh one, dropped at the end",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help=f"server for the fresh database (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="gunicorn's port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument("--seed", type=int, help="random seed of the load (default: random, printed)")
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the server's and the editors' logs (the path is printed)",
    )
    parser.add_argument("--dump-state", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    positive = args.seconds > 0 and args.workers >= 1 and args.writers >= 1
    counts = (args.readers, args.kills, args.min_in_transaction, args.db_faults)
    if args.dump_state is None and not (positive and min(counts) >= 0):
        parser.error(
            "--seconds, --workers and --writers must be positive; --readers, --kills, "
            "--min-in-transaction and --db-faults not negative"
        )
    if args.dump_state is None and args.min_in_transaction > args.kills:
        parser.error("--min-in-transaction cannot exceed --kills")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.dump_state:
        dump_state(args.dump_state)
        return 0
    # SIGTERM (CI cancelling) unwinds through the finally below like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    proof = Proof(args)
    try:
        return proof.execute()
    except (RuntimeError, ValueError) as exc:
        print(f"load and faults: could not run: {exc}", file=sys.stderr)
        return 2
    except Exception:  # a failure of the proof itself, not a finding
        traceback.print_exc()
        print("load and faults: could not run (see above)", file=sys.stderr)
        return 2
    finally:
        proof.cleanup()


if __name__ == "__main__":
    sys.exit(main())
