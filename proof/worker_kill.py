"""Worker kill: a rescoring job completes, with every card right, although its workers are SIGKILLed.

    .venv/bin/python -m proof.worker_kill [--projects 3000] [--workers 2] [--kills 2]

Creates a fresh PostgreSQL database on 127.0.0.1 (dropped at the end), migrates it and generates
synthetic published projects (``manage.py generate_projects``); an administrator releases method
1.1 (method 1.0 with α 0.6), which queues a rescoring job in chunks. Then ``--workers`` real
``manage.py db_worker`` processes run it, with a short lease (``--lease`` seconds, through
proof/worker_kill_settings.py). A killer watches the chunk rows for one running in one of these
workers, SIGSTOPs that worker, checks that the chunk is still its own and unfinished, and
SIGKILLs it; another worker is started in its place. ``--kills`` times; the last kill waits
until no chunk is queued any more, so that only the watchdog of the idle workers can find it.

Then, read directly from the database (Django in a subprocess):

1. the job is done, within ``--timeout`` seconds, its counts exact (every project rescored once,
   every card new once, every published card moved once);
2. every project's working card and public card are what projects.scoring computes from its
   ratings under the new method; no project has two cards or two automatic publications under it;
3. every chunk a kill landed in was run again by another worker (its claim changed), and no task
   is left "running" in the task database.

Exit status: 0 when all holds, 1 when something does not, 2 when the run could not be set up or
no kill landed inside a chunk (the proof then proves nothing). Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from harness import drop_postgres_database, stop_processes, with_database
from proof.load_faults import DEFAULT_POSTGRES, ROOT, loopback_url

SETTLE = 0.3  # seconds a stopped worker's statement in flight may take to finish (or commit)
TAIL = " (no chunk queued any more)"
KILL_SEARCH = 20.0  # seconds to find a worker inside a chunk, per kill

# generate_projects and the release, as a shell user (every change to the record has an actor).
GENERATE = """
from django.contrib.auth import get_user_model
from django.core.management import call_command
from projects import actors
analyst = get_user_model().objects.create_user("proof-analyst", password=None, is_staff=True)
with actors.acting(analyst, "shell"):
    call_command("generate_projects", "{count}", "--seed", "{seed}")
"""
PUBLISH = """
import json
from django.contrib.auth import get_user_model
from projects import actors
from projects.methodology import method_file_data, method_install
from projects.models import Criterion, Methodology
from projects.services.methodology import methodology_publish
admin = get_user_model().objects.create_superuser("proof-releaser", password=None)
data = method_file_data("1.0"); data["version"] = "1.1"; data["alpha"] = "0.6"
method = method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")
with actors.acting(admin, "shell"):
    job = methodology_publish(methodology=method)
print("JOB " + json.dumps({"job": job.pk, "total": job.total, "chunks": job.chunks}))
"""


@dataclass
class Kill:
    pid: int
    chunk: int
    first_id: int
    last_id: int
    claim: str
    at: float  # monotonic
    wall: float  # time.time(), to compare with the database's times
    inside: bool  # the chunk was still this worker's, unfinished, when it was stopped


class Proof:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="sdgscore-worker-kill-"))
        self.created_database: str | None = None
        self.database_url = ""
        self.env: dict[str, str] = {}
        self.workers: dict[int, subprocess.Popen] = {}
        self.started_workers = 0
        self.kills: list[Kill] = []
        self.job = 0
        self.host = socket.gethostname()

    # -- setup ------------------------------------------------------------------------------

    def setup(self) -> None:
        import psycopg

        admin = loopback_url(self.args.postgres, "--postgres")
        name = f"sdgscore_proof_workerkill_{os.getpid()}"
        with psycopg.connect(with_database(admin, "postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        self.created_database = name
        self.database_url = with_database(admin, name)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}},
            "DJANGO_SETTINGS_MODULE": "proof.worker_kill_settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": self.database_url,
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "RESCORE_CHUNK": str(self.args.chunk),
            "RESCORE_LEASE": str(self.args.lease),
            "PYTHONUNBUFFERED": "1",
        }
        self.manage("migrate", "--noinput", "-v0")
        self.manage("shell", "-c", GENERATE.format(count=self.args.projects, seed=self.args.seed))

    def manage(self, *arguments: str) -> str:
        result = subprocess.run(  # noqa: S603 (this checkout's manage.py, our own arguments)
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {arguments[0]} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def release(self) -> dict:
        out = self.manage("shell", "-c", PUBLISH)
        line = next((line for line in out.splitlines() if line.startswith("JOB ")), None)
        if line is None:
            raise RuntimeError(f"releasing method 1.1 said nothing:\n{out[-2000:]}")
        return json.loads(line.removeprefix("JOB "))

    def start_worker(self) -> int:
        self.started_workers += 1
        log = open(self.workdir / f"worker-{self.started_workers}.log", "wb")  # noqa: SIM115 (the child's)
        process = subprocess.Popen(  # noqa: S603 (this checkout's manage.py, fixed arguments)
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.2",
                "--worker-id",
                f"proof-{self.started_workers}",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.workers[process.pid] = process
        return process.pid

    def stop_workers(self) -> None:
        stop_processes(self.workers.values(), grace=15)

    def drop_database(self) -> None:
        if not self.created_database:
            return

        drop_postgres_database(self.args.postgres, self.created_database)
        self.created_database = None

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.stop_workers()
        try:
            self.drop_database()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- the kills --------------------------------------------------------------------------

    def live_pids(self) -> dict[str, int]:
        return {f"{self.host}:{pid}": pid for pid, p in self.workers.items() if p.poll() is None}

    def kill_one(self, monitor, *, tail: bool = False) -> Kill | None:
        """SIGKILL a worker caught inside a chunk of the job (stopped first, to check it is).

        ``tail``: only once no chunk is queued any more, so that no chunk finishing later finds
        the dead one: the idle workers' watchdog must.
        """
        until = time.monotonic() + KILL_SEARCH
        while time.monotonic() < until:
            if (
                tail
                and monitor.execute(
                    "SELECT count(*) FROM projects_rescorechunk WHERE job_id = %s AND state = 'queued'",
                    (self.job,),
                ).fetchone()[0]
            ):
                time.sleep(0.005)
                continue
            live = self.live_pids()
            rows = monitor.execute(
                "SELECT id, worker, claim, first_id, last_id FROM projects_rescorechunk "
                "WHERE job_id = %s AND state = 'running'",
                (self.job,),
            ).fetchall()
            for chunk, worker, claim, first_id, last_id in rows:
                pid = live.get(worker)
                if pid is None:
                    continue
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    continue
                try:
                    time.sleep(SETTLE)  # a COMMIT already sent may still land
                    row = monitor.execute(
                        "SELECT state, claim FROM projects_rescorechunk WHERE id = %s", (chunk,)
                    ).fetchone()
                    inside = row == ("running", claim)
                finally:
                    at, wall = time.monotonic(), time.time()
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.workers[pid].wait(timeout=10)
                return Kill(pid, chunk, first_id, last_id, claim, at, wall, inside)
            if self.job_state(monitor) in {"done", "failed"}:
                return None
            time.sleep(0.005)
        return None

    def job_state(self, monitor) -> str:
        return monitor.execute("SELECT state FROM projects_rescorejob WHERE id = %s", (self.job,)).fetchone()[
            0
        ]

    # -- the whole run ----------------------------------------------------------------------

    def execute(self) -> int:
        import psycopg

        began = time.monotonic()
        self.setup()
        print(
            f"database: {self.created_database} (migrated, {self.args.projects} projects generated)",
            flush=True,
        )
        released = self.release()
        self.job = released["job"]
        print(
            f"method 1.1 released: job {self.job}, {released['total']} projects in "
            f"{released['chunks']} chunks of {self.args.chunk}; lease {self.args.lease:g} s",
            flush=True,
        )
        started = time.monotonic()
        for _ in range(self.args.workers):
            self.start_worker()
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=10) as monitor:
            for number in range(1, self.args.kills + 1):
                kill = self.kill_one(monitor, tail=number == self.args.kills > 1)
                if kill is None:
                    break
                self.kills.append(kill)
                print(
                    f"kill {len(self.kills)}: worker {kill.pid} SIGKILLed "
                    f"{'inside' if kill.inside else 'NOT inside'} chunk {kill.first_id}–{kill.last_id} "
                    f"at {kill.at - started:.1f} s{TAIL if number == self.args.kills > 1 else ''}; "
                    "another worker started",
                    flush=True,
                )
                self.start_worker()
            deadline = started + self.args.timeout
            state = self.job_state(monitor)
            while state not in {"done", "failed"} and time.monotonic() < deadline:
                time.sleep(0.2)
                state = self.job_state(monitor)
            finished = time.monotonic()
        self.stop_workers()
        verdict = self.verify()
        return self.report(verdict, state, finished - started, time.monotonic() - began)

    def verify(self) -> dict:
        path = self.workdir / "verdict.json"
        result = subprocess.run(  # noqa: S603 (this module, fixed arguments)
            [sys.executable, "-m", "proof.worker_kill", "--verify", str(path), "--job", str(self.job)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"reading the database failed:\n{result.stderr[-3000:]}")
        return json.loads(path.read_text())

    def report(self, verdict: dict, state: str, seconds: float, overall: float) -> int:
        landed = [kill for kill in self.kills if kill.inside]
        chunks = {chunk["id"]: chunk for chunk in verdict["chunks"]}
        rerun = [kill for kill in landed if chunks[kill.chunk]["claim"] != kill.claim]
        failures = list(verdict["problems"])
        if state != "done":
            failures.append(f"the job is {state}, not done, after {seconds:.0f} s: {verdict['job']['error']}")
        for kill in landed:
            if kill not in rerun:
                failures.append(f"chunk {kill.first_id}–{kill.last_id}: killed inside, but not run again")
        reruns = sum(chunk["attempts"] - 1 for chunk in chunks.values() if chunk["attempts"] > 1)
        job = verdict["job"]
        print()
        print(f"projects          {job['total']}, chunks {job['chunks']}, workers {self.args.workers}")
        print(f"kills             {len(self.kills)} ({len(landed)} inside a chunk, asked {self.args.kills})")
        print(f"chunks run again  {reruns} (every chunk killed inside: {len(rerun)} of {len(landed)})")
        for kill in rerun:
            again = chunks[kill.chunk]["claimed_at"] - kill.wall
            print(f"{'':18}chunk {kill.first_id}–{kill.last_id} taken again {again:.1f} s after its kill")
        print(
            f"job               {state}: {job['done']}/{job['total']} rescored, {job['changed']} new cards,"
        )
        print(
            f"                  {job['republished']} public cards moved, in {seconds:.1f} s "
            f"({overall:.1f} s in all)"
        )
        print(f"cards checked     {verdict['checked']} working and public cards against the engine")
        print(
            f"chunk tasks left running in the task database: {verdict['tasks_running']}"
            f" (watchdog rounds cut short by the end: {verdict.get('watchdogs_running', 0)})"
        )
        if failures:
            print(f"\nworker kill: FAILED, {len(failures)} problems:")
            for problem in failures[:30]:
                print(f"  - {problem}")
            return 1
        if not landed:
            print("\nworker kill: proves nothing: no kill landed inside a chunk", file=sys.stderr)
            return 2
        print("\nworker kill: the job completed, every card is right")
        return 0


# ---------------------------------------------------------------------------------------------
# Reading the stored state (runs in a subprocess, with the workers' settings)


def verify_state(path: str, job_id: int) -> None:
    """Write the job, its chunks and every mismatch between a card and the engine to ``path``."""
    import django

    django.setup()
    from collections import defaultdict

    from django_tasks_db.models import DBTaskResult

    from projects import scoring
    from projects.models import Assessment, Project, Publication, RescoreJob, ScoreCard
    from projects.models.jobs import RescoreChunk
    from projects.services.scoring import method_spec

    job = RescoreJob.objects.select_related("methodology").get(pk=job_id)
    methodology = job.methodology
    spec = method_spec(methodology)
    ratings = defaultdict(list)
    for project_id, code, level, grade, not_applicable in Assessment.objects.filter(
        criterion__methodology=methodology
    ).values_list("project_id", "criterion__code", "level", "evidence_grade", "not_applicable"):
        ratings[project_id].append(scoring.Rating(code, level, grade or None, bool(not_applicable)))
    problems, checked = [], 0
    projects = Project.objects.select_related("current_score", "published_score").order_by("pk")
    published = 0
    for project in projects.iterator(chunk_size=2000):
        card = scoring.score(spec, ratings.get(project.pk, ())).as_dict()
        for kind, served in (("working", project.current_score), ("public", project.published_score)):
            if served is None:
                continue
            checked += 1
            if served.methodology_id != methodology.pk:
                problems.append(f"{project.slug}: its {kind} card is under another method")
            elif served.card != card:
                problems.append(f"{project.slug}: its {kind} card is not the engine's")
        published += project.published_score_id is not None
    total = projects.count()
    cards = ScoreCard.objects.filter(methodology=methodology).count()
    automatic = Publication.objects.filter(
        methodology=methodology, kind=Publication.Kind.REPUBLICATION
    ).count()
    if cards != total:
        problems.append(f"{cards} cards under method 1.1 for {total} projects (one each expected)")
    if automatic != published:
        problems.append(f"{automatic} automatic publications for {published} published projects")
    expected = (total, total, total, published, job.chunks)
    counted = (job.total, job.done, job.changed, job.republished, job.chunks_done)
    if counted != expected:
        problems.append(
            f"job counts (total, done, changed, republished, chunks done) {counted} != {expected}"
        )
    chunks = [
        {**chunk, "claimed_at": chunk["claimed_at"].timestamp()}
        for chunk in RescoreChunk.objects.filter(job=job).values(
            "id", "state", "attempts", "claim", "worker", "claimed_at"
        )
    ]
    problems += [f"chunk {c['id']} is {c['state']}" for c in chunks if c["state"] != "done"]
    state = {
        "job": {
            "state": job.state,
            "error": job.error,
            "total": job.total,
            "done": job.done,
            "changed": job.changed,
            "republished": job.republished,
            "chunks": job.chunks,
        },
        "chunks": chunks,
        "checked": checked,
        "problems": problems,
        # Chunk tasks of dead workers must have been marked lost. A watchdog round (rescore_watch)
        # that a stopping worker was running when the proof ended is counted apart: it has no
        # cards to lose and is re-armed by the next job.
        "tasks_running": DBTaskResult.objects.filter(
            status="RUNNING", task_path__endswith="rescore_chunk"
        ).count(),
        "watchdogs_running": DBTaskResult.objects.filter(
            status="RUNNING", task_path__endswith="rescore_watch"
        ).count(),
    }
    if state["tasks_running"]:
        problems.append(f"{state['tasks_running']} chunk tasks still marked running in the task database")
    Path(path).write_text(json.dumps(state))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m proof.worker_kill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=3000, help="synthetic projects (default 3000)")
    parser.add_argument("--chunk", type=int, default=150, help="projects per chunk (default 150)")
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes (default 2)")
    parser.add_argument("--kills", type=int, default=2, help="workers to SIGKILL inside a chunk (default 2)")
    parser.add_argument("--lease", type=float, default=4, help="RESCORE_LEASE, seconds (default 4)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds allowed to the job (default 180)")
    parser.add_argument("--seed", type=int, default=2026, help="generate_projects --seed (default 2026)")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help=f"server for the fresh database (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--verify", help=argparse.SUPPRESS)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verify is None and not (
        args.projects >= 1 and args.chunk >= 1 and args.workers >= 1 and args.kills >= 1 and args.lease > 0
    ):
        parser.error("--projects, --chunk, --workers, --kills and --lease must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.verify:
        verify_state(args.verify, args.job)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # CI cancelling: clean up as on Ctrl-C
    proof = Proof(args)
    try:
        return proof.execute()
    except (RuntimeError, ValueError) as exc:
        print(f"worker kill: could not run: {exc}", file=sys.stderr)
        return 2
    except Exception:  # a failure of the proof itself, not a finding
        traceback.print_exc()
        print("worker kill: could not run (see above)", file=sys.stderr)
        return 2
    finally:
        proof.cleanup()


if __name__ == "__main__":
    sys.exit(main())
