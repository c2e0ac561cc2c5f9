"""Uncertainty kill: a run of the uncertainty figures whose worker is SIGKILLed is failed and done again.

    .venv/bin/python -m proof.uncertainty_kill [--projects 8000] [--workers 2] [--lease 4]

Creates a fresh PostgreSQL database on 127.0.0.1 (dropped at the end), migrates it and generates
synthetic published projects (``manage.py generate_projects``); then queues an uncertainty run
(``projects.services.uncertainty.uncertainty_queue``) and starts ``--workers`` real
``manage.py db_worker`` processes, with a short lease (``UNCERTAINTY_LEASE=--lease`` seconds,
``UNCERTAINTY_DELAY=0``). A killer finds the worker computing the run: the django-tasks-db row
of its ``projects.tasks.uncertainty_refresh`` task is ``RUNNING`` and names the worker
(``worker_ids``; each worker is started with ``--worker-id proof-N``). It waits until the run has
written rows of its own (``--kill-when rows``, the default) or has run ``--after`` seconds
(``--kill-when started``), SIGSTOPs that worker, checks that the run is still running, and
SIGKILLs it; another worker is started in its place.

Then, read directly from the database (Django in a subprocess):

1. the killed run is ``failed``, its error starting "WorkerLost", and none of its rows remain;
   no other run failed (a live worker's run is never taken for lost);
2. within ``--timeout`` seconds of the kill a later run is ``done``; it covers exactly the rated
   published projects (one row each) and it is the only done run;
3. its figures equal those of the same computation again (``uncertainty_compute()`` in that
   subprocess, once the workers stopped: same seed, same data), project by project;
4. no task is left "running" in the task database.

Exit status: 0 when all holds, 1 when something does not, 2 when the run could not be set up or
no kill landed while the run was running (the proof then proves nothing). Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from harness import drop_postgres_database, read_proc, stop_processes, with_database
from proof.load_faults import DEFAULT_POSTGRES, ROOT, loopback_url
from proof.worker_kill import GENERATE, SETTLE

REFRESH = "projects.tasks.uncertainty_refresh"
QUEUE = """
import json
from projects.models import UncertaintyRun
from projects.services.uncertainty import uncertainty_queue
assert not UncertaintyRun.objects.exists(), "a run exists already"
run = uncertainty_queue("proof")
print("RUN " + json.dumps({"run": run.pk if run else None, "scenarios": run.scenarios if run else 0}))
"""
# The figures compared between the run and its computation again: all that a row stores.
FIGURES = (
    "net_p5",
    "net_median",
    "net_p95",
    "rank_p5",
    "rank_median",
    "rank_p95",
    "top10",
    "stable",
    "grades",
    "grade_changes",
    "publication_id",
)


@dataclass
class Kill:
    pid: int
    worker: str
    run: int
    task: str
    rows: int  # the run's rows when its worker was stopped
    at: float  # monotonic
    wall: float  # time.time(), to compare with the database's times
    inside: bool  # the run was still running, in this worker's task, when it was stopped
    cpu: dict[str, float]  # CPU seconds of each live worker at the kill (the killed one computes)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc (0 when it is gone)."""
    text = read_proc(f"/proc/{pid}/stat")
    close = text.rfind(")")
    fields = text[close + 2 :].split() if close >= 0 else []
    if len(fields) < 13:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Proof:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="sdgscore-uncertainty-kill-"))
        self.created_database: str | None = None
        self.database_url = ""
        self.env: dict[str, str] = {}
        self.workers: dict[str, subprocess.Popen] = {}  # by worker id
        self.kill: Kill | None = None
        self.run = 0

    # -- setup ------------------------------------------------------------------------------

    def setup(self) -> None:
        import psycopg

        admin = loopback_url(self.args.postgres, "--postgres")
        name = f"sdgscore_proof_uncertaintykill_{os.getpid()}"
        with psycopg.connect(with_database(admin, "postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        self.created_database = name
        self.database_url = with_database(admin, name)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}},
            "DJANGO_SETTINGS_MODULE": "sdgscore.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": self.database_url,
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "UNCERTAINTY_LEASE": str(self.args.lease),
            "UNCERTAINTY_DELAY": "0",
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

    def queue(self) -> int:
        out = self.manage("shell", "-c", QUEUE)
        line = next((line for line in out.splitlines() if line.startswith("RUN ")), None)
        queued = json.loads(line.removeprefix("RUN ")) if line else {}
        if not queued.get("run"):
            raise RuntimeError(f"no uncertainty run was queued:\n{out[-2000:]}")
        return queued["run"]

    def start_worker(self) -> str:
        worker = f"proof-{len(self.workers) + 1}"
        log = open(self.workdir / f"{worker}.log", "wb")  # noqa: SIM115 (the child's)
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
                worker,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own: signalled as one
        )
        log.close()
        self.workers[worker] = process
        return worker

    def stop_workers(self) -> None:
        stop_processes(self.workers.values(), grace=15, kill_group=True)

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

    def log_tails(self, lines: int = 8) -> None:
        for worker in self.workers:
            path = self.workdir / f"{worker}.log"
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            print(f"--- {worker} (last {lines} lines of its log)")
            for line in text[-lines:]:
                print(f"    {line}")

    # -- the kill ---------------------------------------------------------------------------

    def run_state(self, monitor, run_id: int) -> str:
        row = monitor.execute("SELECT state FROM projects_uncertaintyrun WHERE id = %s", (run_id,)).fetchone()
        return row[0] if row else "gone"

    def computing(self, monitor) -> tuple[str, str, float, int] | None:
        """(worker id, task id, seconds running, rows written) of the run while a worker of
        ours computes it, or None."""
        row = monitor.execute(
            "SELECT r.state, extract(epoch FROM now() - r.started_at), "
            "(SELECT count(*) FROM projects_projectuncertainty u WHERE u.run_id = r.id), "
            "t.id, t.worker_ids FROM projects_uncertaintyrun r "
            "LEFT JOIN django_tasks_database_dbtaskresult t ON t.task_path = %s AND t.status = 'RUNNING' "
            "AND (t.args_kwargs -> 'args' ->> 0)::bigint = r.id WHERE r.id = %s",
            (REFRESH, self.run),
        ).fetchone()
        if row is None or row[0] != "running" or row[3] is None or not row[4]:
            return None
        worker = row[4][-1]  # the worker that claimed the task last
        if worker not in self.workers or self.workers[worker].poll() is not None:
            return None
        return worker, str(row[3]), float(row[1]), int(row[2])

    def kill_one(self, monitor) -> Kill | None:
        """SIGKILL the worker computing the run (stopped first, to check it still is)."""
        until = time.monotonic() + self.args.kill_search
        while time.monotonic() < until:
            found = self.computing(monitor)
            if found is None or not self.due(found):
                if self.run_state(monitor, self.run) in {"done", "failed", "gone"}:
                    return None  # finished (or failed) before a kill could land
                time.sleep(0.005)
                continue
            worker, task, _seconds, _rows = found
            pid = self.workers[worker].pid
            cpu = {w: cpu_seconds(p.pid) for w, p in self.workers.items() if p.poll() is None}
            try:
                os.killpg(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            try:
                time.sleep(SETTLE)  # a statement already sent may still land
                again = self.computing(monitor)
                inside = again is not None and again[:2] == (worker, task)
                rows = again[3] if again else 0
            finally:
                at, wall = time.monotonic(), time.time()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            self.workers[worker].wait(timeout=10)
            return Kill(pid, worker, self.run, task, rows, at, wall, inside, cpu)
        return None

    def due(self, found: tuple[str, str, float, int]) -> bool:
        _worker, _task, seconds, rows = found
        if self.args.kill_when == "rows":
            return rows > 0
        return seconds >= self.args.after

    # -- the whole run ----------------------------------------------------------------------

    def execute(self) -> int:
        import psycopg

        began = time.monotonic()
        self.setup()
        print(
            f"database: {self.created_database} (migrated, {self.args.projects} projects generated "
            f"in {time.monotonic() - began:.1f} s)",
            flush=True,
        )
        self.run = self.queue()
        print(
            f"uncertainty run {self.run} queued; lease {self.args.lease} s, delay 0 s, "
            f"{self.args.workers} workers",
            flush=True,
        )
        started = time.monotonic()
        for _ in range(self.args.workers):
            self.start_worker()
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=10) as monitor:
            self.kill = self.kill_one(monitor)
            if self.kill is not None:
                print(
                    f"kill: worker {self.kill.worker} (pid {self.kill.pid}) SIGKILLed "
                    f"{'while' if self.kill.inside else 'NOT while'} computing run {self.run} "
                    f"({self.kill.rows} rows written) at {self.kill.at - started:.1f} s; "
                    "another worker started",
                    flush=True,
                )
                self.start_worker()
                deadline = self.kill.at + self.args.timeout
            else:
                print(f"no kill: run {self.run} is {self.run_state(monitor, self.run)}", flush=True)
                deadline = time.monotonic()
            while time.monotonic() < deadline and not self.later_done(monitor):
                time.sleep(0.2)
            finished = time.monotonic()
        self.stop_workers()
        verdict = self.verify()
        return self.report(verdict, finished - started, time.monotonic() - began)

    def later_done(self, monitor) -> bool:
        return bool(
            monitor.execute(
                "SELECT count(*) FROM projects_uncertaintyrun WHERE id > %s AND state = 'done'", (self.run,)
            ).fetchone()[0]
        )

    def verify(self) -> dict:
        path = self.workdir / "verdict.json"
        result = subprocess.run(  # noqa: S603 (this module, fixed arguments)
            [sys.executable, "-m", "proof.uncertainty_kill", "--verify", str(path), "--run", str(self.run)],
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

    def report(self, verdict: dict, seconds: float, overall: float) -> int:
        kill = self.kill
        landed = kill is not None and kill.inside
        failures = list(verdict["problems"]) if landed else []
        killed = verdict["killed"]
        later = verdict["later"]
        print()
        print(
            f"projects          {self.args.projects} generated, {verdict['rated']} rated and published; "
            f"{verdict['scenarios']} scenarios; workers {self.args.workers}, lease {self.args.lease} s"
        )
        if kill is None:
            print("kill              none (the run was never caught running in a worker)")
        else:
            print(
                f"kill              worker {kill.worker} (the task's worker_ids; CPU "
                + ", ".join(f"{w} {s:.1f} s" for w, s in sorted(kill.cpu.items()))
                + f"), {kill.rows} rows written, {'inside' if kill.inside else 'NOT inside'} the run"
            )
            print(
                f"lost run          {killed['id']}: {killed['state']}, "
                f"ran {kill.wall - killed['started']:.1f} s before the kill, found lost "
                + (f"{killed['finished'] - kill.wall:.1f} s after it" if killed["finished"] else "never")
                + f"; {killed['rows']} rows left"
            )
            print(f"{'':18}{killed['error'][:100]}")
        if later:
            print(
                f"new run           {later['id']} ({later['reason']}): {later['state']}, {later['projects']} "
                f"projects, {later['rows']} rows, computed in {later['finished'] - later['started']:.1f} s, "
                + (f"done {later['finished'] - kill.wall:.1f} s after the kill" if kill else "")
            )
        else:
            print(f"new run           none done after {seconds:.1f} s")
        runs = ", ".join(f"{run['id']} {run['state']}" for run in verdict["runs"])
        print(f"runs              {runs}")
        print(
            f"again             {verdict['compared']} projects' figures compared with uncertainty_compute() "
            f"again ({verdict['again_seconds']:.1f} s): {verdict['differ']} differ"
        )
        print(f"tasks left running in the task database: {verdict['tasks_running']}")
        print(f"in all            {overall:.1f} s")
        if failures:
            print(f"\nuncertainty kill: FAILED, {len(failures)} problems:")
            for problem in failures[:30]:
                print(f"  - {problem}")
            self.log_tails()
            return 1
        if not landed:
            print(
                "\nuncertainty kill: proves nothing: no kill landed while the run was running",
                file=sys.stderr,
            )
            return 2
        print(
            "\nuncertainty kill: the lost run failed (WorkerLost), a new run is done, its figures are right"
        )
        return 0


# ---------------------------------------------------------------------------------------------
# Reading the stored state (runs in a subprocess, with the workers' settings)


def verify_state(path: str, run_id: int) -> None:
    """Write the runs, every problem found, and the comparison with a computation again to ``path``."""
    import django

    django.setup()
    from django_tasks_db.models import DBTaskResult

    from projects.models import Project, ProjectUncertainty, UncertaintyRun
    from projects.services.uncertainty import uncertainty_compute

    def stamp(moment) -> float | None:
        return moment.timestamp() if moment else None

    def figures(run) -> dict[int, tuple]:
        return {
            row[0]: tuple(row[1:])
            for row in ProjectUncertainty.objects.filter(run=run).values_list("project_id", *FIGURES)
        }

    problems = []
    runs = list(UncertaintyRun.objects.order_by("pk"))
    killed = next((run for run in runs if run.pk == run_id), None)
    if killed is None:
        raise RuntimeError(f"run {run_id} is gone")
    rows_of = {run.pk: ProjectUncertainty.objects.filter(run=run).count() for run in runs}
    # 1. the killed run
    if killed.state != UncertaintyRun.State.FAILED or not killed.error.startswith("WorkerLost"):
        problems.append(
            f"the killed run {killed.pk} is {killed.state} ({killed.error[:80]!r}), not failed WorkerLost"
        )
    if rows_of[killed.pk]:
        problems.append(f"the killed run {killed.pk} still has {rows_of[killed.pk]} rows")
    problems += [
        f"run {run.pk} failed too, its worker alive: {run.error[:100]}"
        for run in runs
        if run.pk != killed.pk and run.state == UncertaintyRun.State.FAILED
    ]
    # 2. the run done after it
    rated = set(Project.objects.published().filter(published_net__isnull=False).values_list("pk", flat=True))
    done = [run for run in runs if run.state == UncertaintyRun.State.DONE]
    later = next((run for run in reversed(done) if run.pk > killed.pk), None)
    first: dict[int, tuple] = {}
    if later is None:
        problems.append(f"no run after the killed one is done (runs: {[(r.pk, r.state) for r in runs]})")
    else:
        first = figures(later)
        if len(done) != 1:
            problems.append(f"{len(done)} runs are done, not one: {[r.pk for r in done]}")
        if set(first) != rated or rows_of[later.pk] != len(rated) or later.projects != len(rated):
            problems.append(
                f"run {later.pk} has {rows_of[later.pk]} rows of {len(set(first))} projects "
                f"(counted {later.projects}) for {len(rated)} rated published projects; "
                f"{len(rated - set(first))} missing, {len(set(first) - rated)} not rated and published"
            )
    # 4. the task database (before the computation again, which runs no task)
    running = list(DBTaskResult.objects.filter(status="RUNNING").values_list("task_path", "worker_ids", "id"))
    problems += [
        f"task {task} ({path}) of {workers} is still marked running" for path, workers, task in running
    ]
    # 3. the same computation again: same seed, same data, the same figures
    compared = differ = 0
    again_seconds = 0.0
    if later is not None:
        clock = time.monotonic()
        again = uncertainty_compute(scenarios=later.scenarios, seed=later.seed, reason="proof: again")
        again_seconds = time.monotonic() - clock
        second = figures(again)
        if again.state != UncertaintyRun.State.DONE:
            problems.append(f"computing again: run {again.pk} is {again.state}: {again.error[:100]}")
        if set(second) != set(first):
            problems.append(f"computing again covers {len(second)} projects, the run {len(first)}")
        mismatched = [pk for pk in sorted(set(first) & set(second)) if first[pk] != second[pk]]
        compared, differ = len(set(first) & set(second)), len(mismatched)
        for pk in mismatched[:5]:
            names = [name for name, a, b in zip(FIGURES, first[pk], second[pk], strict=True) if a != b]
            problems.append(f"project {pk}: {', '.join(names)} differ from computing again")
        if len(mismatched) > 5:
            problems.append(f"... {len(mismatched) - 5} more projects differ")

    def described(run) -> dict:
        return {
            "id": run.pk,
            "state": run.state,
            "reason": run.reason,
            "error": run.error,
            "projects": run.projects,
            "rows": rows_of[run.pk],
            "started": stamp(run.started_at),
            "finished": stamp(run.finished_at),
        }

    state = {
        "killed": described(killed),
        "later": described(later) if later else None,
        "runs": [{"id": run.pk, "state": run.state} for run in runs],
        "rated": len(rated),
        "scenarios": killed.scenarios,
        "compared": compared,
        "differ": differ,
        "again_seconds": again_seconds,
        "tasks_running": len(running),
        "problems": problems,
    }
    Path(path).write_text(json.dumps(state))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m proof.uncertainty_kill", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--projects", type=int, default=8000, help="synthetic projects (default 8000)")
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes (default 2)")
    parser.add_argument("--lease", type=int, default=4, help="UNCERTAINTY_LEASE, seconds (default 4)")
    parser.add_argument(
        "--kill-when",
        choices=("rows", "started"),
        default="rows",
        help="kill once the run has written rows (default), or --after seconds after it started",
    )
    parser.add_argument("--after", type=float, default=2.0, help="with --kill-when started (default 2)")
    parser.add_argument(
        "--kill-search", type=float, default=120, help="seconds to catch the run in a worker (default 120)"
    )
    parser.add_argument(
        "--timeout", type=float, default=150, help="seconds from the kill to a new run done (default 150)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="generate_projects --seed (default 2026)")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help=f"server for the fresh database (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--verify", help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verify is None and not (args.projects >= 1 and args.workers >= 1 and args.lease >= 1):
        parser.error("--projects, --workers and --lease must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.verify:
        verify_state(args.verify, args.run)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # CI cancelling: clean up as on Ctrl-C
    proof = Proof(args)
    try:
        return proof.execute()
    except (RuntimeError, ValueError) as exc:
        print(f"uncertainty kill: could not run: {exc}", file=sys.stderr)
        return 2
    except Exception:  # a failure of the proof itself, not a finding
        traceback.print_exc()
        print("uncertainty kill: could not run (see above)", file=sys.stderr)
        return 2
    finally:
        proof.cleanup()


if __name__ == "__main__":
    sys.exit(main())
