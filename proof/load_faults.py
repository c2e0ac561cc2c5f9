"""Load and faults: acknowledged writes survive killed workers, and every score card adds up.

    .venv/bin/python -m proof.load_faults --seconds 60

Creates a fresh PostgreSQL database on 127.0.0.1 (dropped at the end), migrates it, loads the
demo projects, issues a write key and starts gunicorn on 127.0.0.1 with production settings.
Reader threads then GET lists, projects, ratings, score histories and rankings, while writer
threads PUT ratings with If-Match (re-reading and retrying on 412) and POST new draft projects
with their ratings. Meanwhile a killer waits for a worker to be inside a write transaction (its
PostgreSQL backend holds a transaction id), stops it, notes where it stopped and SIGKILLs it;
gunicorn's master starts another. Every write carries a tag (run, writer, sequence number) in
its evidence text, and every answer is recorded with the exact values sent.

Then the server is stopped and the database read directly (Django in a subprocess):

1. every acknowledged (2xx) rating write is stored, or was overwritten by a write that may have
   committed after it; one overwritten by a write acknowledged before it was even sent is lost.
   No write refused with a 4xx, and none whose worker was killed inside its open transaction, is
   stored;
2. no two acknowledged writes of one rating carried the same If-Match: the later would have
   replaced the earlier without having seen it (a lost update);
3. every acknowledged POST stored its project with all its ratings and one score card, and a POST
   whose outcome is unknown stored all of that or nothing;
4. every project's current score card equals what projects.scoring computes from its stored
   ratings under the current method and is the newest card of its history, every card's columns
   mirror its JSON, and the database constraints hold.

Exit status: 0 when no write is lost and nothing mismatches, 1 when something is, 2 when the run
could not be set up or did less than asked (fewer kills, workers not respawned, a thread of the
proof crashed). Loopback only: the server, the database and every request use 127.0.0.1.
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
import socket
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
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432"
REQUEST_TIMEOUT = 15.0  # seconds, every HTTP request
PUT_TRIES = 5  # a rating PUT refused with 412 is re-read and retried this often
KILL_SEARCH = 3.0  # seconds to wait for a worker inside a write transaction
SETTLE = 0.3  # seconds a stopped worker's backend may take to finish its statement
POST_SHARE = 0.1  # of writer rounds
HOT_SHARE = 0.3  # of rating PUTs go to two hot ratings, so that writers collide on If-Match
OPERATOR = {"name": "Load proof operator", "country": "JP", "kind": "company"}

ACK, REJECTED, UNKNOWN = "acknowledged", "rejected", "unknown"
IN_TRANSACTION = "inside a write transaction"
PUT, POST = "rating PUT", "project POST"
READ, ETAG_READ = "read", "ETag read"

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
    return f"[proof {run_id} w{writer}-s{seq}]"


def parse_tag(text: str, run_id: str) -> tuple[int, int] | None:
    """(writer, sequence number) of the write of this run that an evidence text names."""
    match = re.search(r"\[proof ([0-9a-f]+) w(\d+)-s(\d+)\]", text or "")
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
    kind: str  # PUT or POST
    slug: str
    code: str | None  # the criterion of a rating PUT
    value: Any  # PUT: a RatingValue; POST: {code: RatingValue}
    if_match: str | None = None
    name: str | None = None  # POST: the project's name
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
    killed_uncommitted: int = 0  # writes whose worker was killed inside their open transaction

    @property
    def failures(self) -> int:
        return len(self.lost) + len(self.lost_updates) + len(self.phantom) + len(self.half_written)


@dataclass
class Kill:
    at: float  # time.monotonic() just before the SIGKILL
    where: str  # where the worker was: IN_TRANSACTION, after its commit, ...


def killed_uncommitted(writes: list[Write], kills: list[Kill]) -> set[tuple[int, int]]:
    """The writes whose worker was SIGKILLed inside their open transaction: none may be stored.

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


def verify_writes(writes: list[Write], projects: dict, run_id: str, kills: Sequence[Kill] = ()) -> Verdict:
    """Check every recorded write against the stored state (``projects`` as dumped)."""
    verdict = Verdict()
    killed = killed_uncommitted(writes, list(kills))
    verdict.killed_uncommitted = len(killed)
    for write in writes:
        verdict.counts[write.kind, write.outcome] += 1
    ratings = stored_ratings(projects)
    by_ident = {(w.writer, w.seq): w for w in writes}
    _verify_tags(by_ident, ratings, run_id, verdict)
    _verify_puts([w for w in writes if w.kind == PUT], by_ident, ratings, run_id, killed, verdict)
    _verify_posts([w for w in writes if w.kind == POST], projects, verdict)
    for write in writes:
        stored = (
            write.kind == PUT and _stored_write(by_ident, write.key, ratings.get(write.key), run_id) is write
        ) or (write.kind == POST and write.slug in projects)
        if (write.writer, write.seq) in killed and stored:
            verdict.phantom.append(f"{write.slug}: {write.ident} is stored, though killed before its commit")
    return verdict


def _stored_write(by_ident: dict, key: tuple, stored: RatingValue | None, run_id: str) -> Write | None:
    """The write of this run whose value is stored at key: a PUT to it with exactly that value."""
    tag = parse_tag(stored[2], run_id) if stored else None
    write = by_ident.get(tag) if tag else None
    if write is None or write.kind != PUT or write.key != key or write.value != stored:
        return None
    return write


def _verify_tags(by_ident: dict, ratings: dict, run_id: str, verdict: Verdict) -> None:
    """Every stored value that names a write of this run is exactly what that write sent there."""
    for (slug, code), stored in sorted(ratings.items()):
        tag = parse_tag(stored[2], run_id)
        if tag is None:
            continue
        write = by_ident.get(tag)
        if write is None:
            sent = None
        elif write.kind == PUT:
            sent = write.value if write.key == (slug, code) else None
        else:
            sent = write.value.get(code) if write.slug == slug else None
        if sent != stored:
            verdict.half_written.append(f"{slug} {code}: stored {stored!r} is no write sent to it")


def _verify_puts(
    writes: list[Write], by_ident: dict, ratings: dict, run_id: str, killed: set, verdict: Verdict
) -> None:
    groups: dict[tuple, list[Write]] = defaultdict(list)
    for write in writes:
        groups[write.key].append(write)
    for key, group in sorted(groups.items()):
        where = f"{key[0]} {key[1]}"
        stored = ratings.get(key)
        final = _stored_write(by_ident, key, stored, run_id)
        if final is not None and final.outcome == REJECTED:
            verdict.phantom.append(f"{where}: {final.ident} was refused with {final.status}, yet is stored")
        for write in group:
            if write.outcome == UNKNOWN:
                if write is final:
                    verdict.unknown_landed += 1
                elif (write.writer, write.seq) in killed:
                    verdict.unknown_not_landed += 1  # its transaction never committed
                else:
                    verdict.unknown_undetermined += 1
            if write.outcome != ACK or write is final:
                continue
            # It was overwritten: only by a write that may have committed after it.
            if final is None:
                shown = "nothing" if stored is None else repr(stored[2])
                verdict.lost.append(f"{where}: {write.ident} acknowledged, but {shown} is stored")
            elif final.outcome == ACK and final.ended < write.started:
                verdict.lost.append(
                    f"{where}: {write.ident} acknowledged, but {final.ident} is stored, which was "
                    "acknowledged before it was sent"
                )
            elif final.outcome != ACK:
                verdict.superseded_by_unknown += 1
        # If-Match: of the writes that read one version, at most one may replace it.
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


def _verify_posts(writes: list[Write], projects: dict, verdict: Verdict) -> None:
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
        ratings = {code: tuple(value) for code, value in stored["ratings"].items()}
        if stored["name"] != write.name or ratings != write.value:
            missing = sorted(set(write.value) - set(ratings))
            verdict.half_written.append(
                f"{write.slug}: stored project differs from POST {write.ident} "
                f"({len(ratings)} of {len(write.value)} ratings; missing {missing[:5]})"
            )
        if stored["history"] != 1:
            verdict.half_written.append(
                f"{write.slug}: {stored['history']} score cards for a project written in one transaction"
            )


def parse_stat(text: str) -> tuple[str, int] | None:
    """(state, parent pid) from the text of /proc/PID/stat (the name may hold spaces and ')')."""
    close = text.rfind(")")
    fields = text[close + 2 :].split() if close >= 0 else []
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    return fields[0], int(fields[1])


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


def with_database(url: str, name: str) -> str:
    """The URL with its database name replaced."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


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
        self.conflicts = 0  # 412 on a rating PUT: expected, re-read and retried

    def answer(self, kind: str, status: int, expected: tuple[int, ...]) -> None:
        with self.lock:
            self.served[kind] += 1
            if kind == PUT and status == 412:
                self.conflicts += 1
            elif status not in expected:
                self.errors[f"HTTP {status} on {kind}"] += 1

    def failure(self, kind: str, exc: BaseException) -> None:
        with self.lock:
            self.errors[f"{error_kind(exc)} on {kind}"] += 1


# ---------------------------------------------------------------------------------------------
# Processes


def children(ppid: int) -> list[int]:
    """Live (not zombie) child processes of ppid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parsed = parse_stat(Path(f"/proc/{entry}/stat").read_text())
        except OSError:
            continue
        if parsed and parsed[1] == ppid and parsed[0] not in {"Z", "X"}:
            found.append(int(entry))
    return sorted(found)


def process_with_socket(pids: list[int], inodes: set[int]) -> int | None:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                        return pid
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


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
        self.key = ""
        self.env: dict[str, str] = {}
        self.tally = Tally()
        self.writes: list[list[Write]] = [[] for _ in range(args.writers)]
        self.kills: list[Kill] = []
        self.created: list[str] = []  # slugs of acknowledged POSTs, for readers
        self.acks_showing_other = 0
        self.crashes: list[str] = []  # threads of this proof that died of an exception
        self.stop = threading.Event()
        self.deadline = 0.0
        self.slugs: list[str] = []
        self.codes: list[str] = []

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
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_demo")
        self.key = self.manage(
            "issue_api_key",
            "load proof",
            "--owner",
            "demo-analyst",
            "--scope",
            "write",
            "--rate",
            "1000000/minute",
        )
        self.key = self.key.strip().splitlines()[-1]

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
        self.slugs = sorted(p["slug"] for p in projects if p["state"] == "published")
        methods = call(self.port, "GET", "/api/v1/methodologies").json()["results"]
        self.codes = [criterion["code"] for criterion in methods[0]["criteria"]]
        if not self.slugs or not self.codes:
            raise RuntimeError("no published projects or no criteria after load_demo")

    def stop_server(self) -> None:
        server, self.server = self.server, None
        if server is None or server.poll() is not None:
            return
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    def drop_database(self) -> None:
        if not self.created_database:
            return
        import psycopg

        admin = with_database(self.args.postgres, "postgres")
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg.sql.Identifier(self.created_database)
                )
            )
        self.created_database = None

    # -- load -------------------------------------------------------------------------------

    def time_up(self) -> bool:
        return self.stop.is_set() or time.monotonic() >= self.deadline

    def reader(self, index: int) -> None:
        rng = random.Random(f"{self.seed}-r{index}")  # noqa: S311 (load, not secrets)
        key = self.key if index % 2 else None  # half read with the write key (drafts too)
        while not self.time_up():
            slug = rng.choice(self.slugs)
            path = rng.choice(
                [
                    "/api/v1/projects?page_size=50",
                    "/api/v1/projects?ordering=-net_score&target_body=moon",
                    f"/api/v1/projects/{slug}",
                    f"/api/v1/projects/{slug}/assessments",
                    f"/api/v1/projects/{slug}/scores",
                    "/api/v1/rankings",
                    "/api/v1/operators",
                    "/api/v1/sync/projects?page_size=100",
                ]
            )
            if key and self.created and rng.random() < 0.2:  # an acknowledged draft is there
                path = f"/api/v1/projects/{rng.choice(self.created)}"
            try:
                answer = call(self.port, "GET", path, key=key)
            except FAILURES as exc:
                self.tally.failure(READ, exc)
                time.sleep(0.05)
                continue
            self.tally.answer(READ, answer.status, (200,))

    def writer(self, index: int) -> None:
        rng = random.Random(f"{self.seed}-w{index}")  # noqa: S311 (load, not secrets)
        seq = itertools.count(1)
        hot = [(self.slugs[0], self.codes[0]), (self.slugs[-1], self.codes[-1])]
        while not self.time_up():
            if rng.random() < POST_SHARE:
                self.post_project(index, rng, next(seq))
            elif rng.random() < HOT_SHARE:
                self.put_rating(index, rng, seq, *rng.choice(hot))
            else:
                self.put_rating(index, rng, seq, rng.choice(self.slugs), rng.choice(self.codes))

    @staticmethod
    def rating_body(rng: random.Random, tag: str) -> dict:
        if rng.random() < 0.1:
            return {"not_applicable": True, "evidence": f"Load proof {tag}: not applicable."}
        level, grade = rng.randint(0, 4), rng.choice("ABCD")
        return {"rating": level, "evidence": f"Load proof {tag}: level {level}.", "evidence_grade": grade}

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
            self.writes[index].append(write)
            write.started = time.monotonic()
            try:
                answer = call(
                    self.port,
                    "PUT",
                    path,
                    key=self.key,
                    body=body,
                    headers={"If-Match": etag} if etag else {},
                )
            except FAILURES as exc:
                write.ended = time.monotonic()
                self.tally.failure(PUT, exc)
                return
            write.ended, write.status = time.monotonic(), answer.status
            write.outcome = write_outcome(answer.status)
            self.tally.answer(PUT, answer.status, (200, 201))
            if write.outcome == ACK and _field(answer, "evidence") != body["evidence"]:
                self.acks_showing_other += 1
            if answer.status != 412:
                return

    def post_project(self, index: int, rng: random.Random, number: int) -> None:
        tag = tag_for(self.run_id, index, number)
        slug = f"proof-{self.run_id}-w{index}-s{number}"
        items = [
            {"criterion": code, **self.rating_body(rng, tag)}
            for code in rng.sample(self.codes, rng.randint(5, len(self.codes)))
        ]
        record = {
            "slug": slug,
            "name": f"Load proof {self.run_id} w{index} s{number}",
            "operator": OPERATOR,
            "target_body": rng.choice(["moon", "mars", "near_earth_asteroid"]),
            "phase": "concept",
            "origin": "synthetic",
            "summary": "A synthetic project written by the load-and-faults proof.",
            "assessments": items,
        }
        write = Write(
            index,
            number,
            POST,
            slug,
            None,
            {item["criterion"]: rating_value(item) for item in items},
            name=record["name"],
        )
        self.writes[index].append(write)
        write.started = time.monotonic()
        try:
            answer = call(self.port, "POST", "/api/v1/projects", key=self.key, body=record)
        except FAILURES as exc:
            write.ended = time.monotonic()
            self.tally.failure(POST, exc)
            return
        write.ended, write.status = time.monotonic(), answer.status
        write.outcome = write_outcome(answer.status)
        self.tally.answer(POST, answer.status, (201,))
        if write.outcome == ACK:
            self.created.append(slug)

    # -- faults -----------------------------------------------------------------------------

    def killer(self, started: float) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=10) as monitor:
            for number in range(self.args.kills):
                at = started + self.args.seconds * (number + 1) / (self.args.kills + 1)
                if self.stop.wait(max(0.0, at - time.monotonic())):
                    return
                kill = self.kill_one(monitor)
                if kill is not None:
                    self.kills.append(kill)

    def kill_one(self, monitor) -> Kill | None:
        """SIGKILL a worker, inside a write transaction when one is caught within KILL_SEARCH."""
        assert self.server is not None
        search_until = time.monotonic() + KILL_SEARCH
        while time.monotonic() < search_until and not self.stop.is_set():
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
                if worker is None:
                    continue
                try:
                    os.kill(worker, signal.SIGSTOP)
                except ProcessLookupError:
                    continue
                try:
                    state = self.settled_state(monitor, backend)
                finally:
                    at = time.monotonic()
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker, signal.SIGKILL)
                where = {
                    "idle in transaction": IN_TRANSACTION,
                    "idle": "after its commit, before its answer",
                    "active": "during a statement of a write transaction",
                }.get(state or "", f"backend {state or 'gone'}")
                return Kill(at, where)
            time.sleep(0.002)
        workers = children(self.server.pid)
        if self.stop.is_set() or not workers:
            return None
        at = time.monotonic()
        try:
            os.kill(random.choice(workers), signal.SIGKILL)  # noqa: S311
        except ProcessLookupError:
            return None
        return Kill(at, "at a random moment (no write transaction caught)")

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

    # -- the whole run ----------------------------------------------------------------------

    def load(self) -> int:
        """Readers, writers and the killer for --seconds; the number of workers alive at the end."""
        started = time.monotonic()
        self.deadline = started + self.args.seconds
        threads = [self.thread(self.reader, i) for i in range(self.args.readers)]
        threads += [self.thread(self.writer, i) for i in range(self.args.writers)]
        killer = self.thread(self.killer, started)
        for thread in [*threads, killer]:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, self.deadline - time.monotonic()) + PUT_TRIES * 2 * REQUEST_TIMEOUT)
        self.stop.set()
        killer.join(timeout=KILL_SEARCH + 5)
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
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=10) as conn:
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
            f"{args.readers} readers, {args.writers} writers, {args.kills} SIGKILLs, seed {self.seed}",
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
        writes = [write for per_writer in self.writes for write in per_writer]
        verdict = verify_writes(writes, state["projects"], self.run_id, self.kills)
        log = self.server_log.read_text(errors="replace")
        incomplete = []
        if len(self.kills) < args.kills:
            incomplete.append(f"{len(self.kills)} of {args.kills} kills done")
        if alive < args.workers:
            incomplete.append(f"{alive} of {args.workers} workers alive at the end")
        incomplete += self.crashes
        failed = self.report(verdict, state, alive, log, incomplete)
        return 1 if failed else 2 if incomplete else 0

    def report(self, verdict: Verdict, state: dict, alive: int, log: str, incomplete: list[str]) -> bool:
        tally, counts = self.tally, verdict.counts
        served = sum(tally.served.values())
        print(f"requests served: {served} ({_join(tally.served)})")
        print(f"412 on rating PUTs (stale If-Match, re-read and retried): {tally.conflicts}")
        print(f"errors by kind: {_join(tally.errors) or 'none'}")
        kinds = Counter(kill.where for kill in self.kills)
        print(f"worker kills (SIGKILL): {len(self.kills)}; {_join(kinds) or 'none'}")
        print(
            f"workers alive at the end: {alive} of {self.args.workers}; gunicorn reported "
            f"{log.count('was sent SIGKILL')} killed"
        )
        acknowledged = counts[PUT, ACK] + counts[POST, ACK]
        refused = counts[PUT, REJECTED] + counts[POST, REJECTED]
        print(
            f"writes acknowledged: {acknowledged} ({counts[PUT, ACK]} rating PUTs, {counts[POST, ACK]} "
            f"project POSTs); refused (4xx, changed nothing): {refused}"
        )
        unknown = counts[PUT, UNKNOWN] + counts[POST, UNKNOWN]
        print(
            f"writes of unknown outcome (no answer or 5xx): {unknown}: {verdict.unknown_landed} landed, "
            f"{verdict.unknown_not_landed} did not, {verdict.unknown_undetermined} overwritten since"
        )
        print(
            f"acknowledged writes overwritten by a write of unknown outcome: {verdict.superseded_by_unknown}"
        )
        print(f"acknowledged answers showing a later write's value: {self.acks_showing_other}")
        print(f"writes lost: {len(verdict.lost)}")
        print(f"lost updates (two acknowledged writes on one If-Match version): {len(verdict.lost_updates)}")
        print(
            f"writes killed inside their open transaction: {verdict.killed_uncommitted}; "
            f"refused or killed writes stored anyway: {len(verdict.phantom)}"
        )
        print(f"half-written changes: {len(verdict.half_written)}")
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
            + state["card_mismatches"]
            + state["column_mismatches"]
            + state["stale_current"]
        )
        for line in details[:20]:
            print(f"  {line}")
        if len(details) > 20:
            print(f"  ... and {len(details) - 20} more")
        errors = [
            line
            for line in log.splitlines()
            if ("Traceback" in line or "Error" in line) and "was sent SIGKILL" not in line
        ]
        if errors:
            print(f"server log: {len(errors)} error lines, first ones:")
            for line in errors[:8]:
                print(f"  {line[:200]}")
        for line in incomplete:
            print(f"incomplete run: {line}")
        failed = bool(verdict.failures or state_failures(state))
        print("RESULT:", "FAIL" if failed else "INCOMPLETE" if incomplete else "PASS", flush=True)
        return failed

    def cleanup(self) -> None:
        self.stop.set()
        with contextlib.suppress(Exception):
            self.stop_server()
        try:
            self.drop_database()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


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

CARD_COLUMNS = [
    "status",
    "grade",
    "net_score",
    "net_low",
    "net_high",
    "confidence",
    "sdg7",
    "sdg9",
    "sdg12",
    "debris",
    "equity",
    "debris_level",
    "equity_level",
    "debris_severe",
    "equity_severe",
]


def dump_state(path: str) -> None:
    """Write every project's ratings and the results of the score-card checks to ``path``."""
    import django

    django.setup()
    from django.db.models import Count, F, Q

    from projects import scoring
    from projects.models import Assessment, Project, ScoreCard
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
    }
    history: dict[int, list] = defaultdict(list)
    for card in ScoreCard.objects.select_related("methodology").order_by("project_id", "id"):
        history[card.project_id].append(card)
        state["history_checked"] += 1
        mirror = ScoreCard.from_card(project_id=card.project_id, methodology=card.methodology, card=card.card)
        differing = [name for name in CARD_COLUMNS if getattr(card, name) != getattr(mirror, name)]
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
    for project in Project.objects.select_related("operator", "current_score").order_by("pk"):
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
        state["projects"][project.slug] = {
            "name": project.name,
            "state": project.state,
            "operator": project.operator.name,
            "ratings": stored,
            "history": len(cards),
        }
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
    parser.add_argument("--dump-state", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    positive = args.seconds > 0 and args.workers >= 1 and args.writers >= 1
    if args.dump_state is None and not (positive and args.readers >= 0 and args.kills >= 0):
        parser.error(
            "--seconds, --workers and --writers must be positive; --readers and --kills not negative"
        )
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
