"""What the benchmarks share: their own databases, child processes, memory sampling, tables, results.

Nothing here touches the checkout's db.sqlite3: every Django command gets an explicit
DATABASE_URL, either an SQLite file under /tmp/sdgscore-bench/ or a PostgreSQL database named
``sdgscore_bench_<n>…`` on 127.0.0.1. Every child process runs in its own process group, which
is ended when the benchmark finishes, fails or is interrupted (Ctrl-C, SIGTERM, SIGHUP).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness import descendants, drop_postgres_database, read_proc

ROOT = Path(__file__).resolve().parents[1]
WORK = Path("/tmp/sdgscore-bench")  # noqa: S108 -- the agreed place; work_dir() checks it is ours
RESULTS = ROOT / "bench" / "results"
STATIC_ROOT = WORK / "static"
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
GNU_TIME = "/usr/bin/time"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
DATABASE_KINDS = ("sqlite", "postgres")
MARKER = "BENCH-RESULT "  # the line a `manage.py shell -c` snippet prints its JSON answer on
SECRET_KEY = secrets.token_urlsafe(50)  # a fresh throwaway key for each benchmark run
MB = 1024 * 1024

# Left out of the children's environment: a developer's shared cache or switches must not change
# what is measured (each benchmark sets the ones it means).
CLEARED_ENV = {"REDIS_URL", "RESPONSE_CACHE", "BENCH_FLOOR", "TASKS_BACKEND", "DJANGO_SETTINGS_MODULE"}


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def work_dir() -> Path:
    """The work folder (WORK), created private; refused if it is a link or someone else's."""
    WORK.mkdir(mode=0o700, exist_ok=True)
    status = WORK.lstat()
    if WORK.is_symlink() or status.st_uid != os.getuid():
        raise BenchError(f"{WORK} is a link or belongs to another user: remove it or run as its owner.")
    return WORK


def log(message: str) -> None:
    """Progress, on stderr (the figures go to stdout)."""
    print(f"· {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Entry points


def main_guard(name: str, body: Callable[[], int]) -> None:
    """Run a benchmark's body and exit with its status: 2 when it could not run as asked, 130
    when interrupted. Whatever happens, every process it started is ended."""

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    status = 1
    try:
        status = body()
    except BenchError as exc:
        print(f"\n{name}: {exc}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted; stopping the processes it started.", file=sys.stderr)
        status = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        stop_all()
    sys.exit(status)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def size_and_database_arguments(parser, *, sizes: list[int], databases: list[str], waits_before: str) -> None:
    """The options every benchmark over bench databases takes: sizes, databases, --rebuild and
    --wait-quiet (``waits_before``: what it waits before, for the help text)."""
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=sizes, metavar="N")
    parser.add_argument("--databases", nargs="+", choices=DATABASE_KINDS, default=databases)
    parser.add_argument("--rebuild", action="store_true", help="build the bench databases afresh")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help=f"before {waits_before}, wait up to this long for other processes to leave the CPUs idle",
    )


# ---------------------------------------------------------------------------------------------
# Child processes


_children: set[subprocess.Popen] = set()


def django_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a manage.py command or server: production settings (DEBUG off, a random
    key, no HTTPS redirect on loopback) on the given database, local-memory cache, quiet logs."""
    env = {name: value for name, value in os.environ.items() if name not in CLEARED_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="sdgscore.settings",
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(STATIC_ROOT),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def spawn(command: Sequence[str], *, env: dict[str, str], **options) -> subprocess.Popen:
    """Start a child in its own session (so Ctrl-C reaches only us, and we end its whole group)."""
    process = subprocess.Popen(list(command), cwd=ROOT, env=env, start_new_session=True, **options)  # noqa: S603
    _children.add(process)
    return process


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """End a child and everything it started: SIGTERM to its group, SIGKILL after ``grace`` s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # The leader is gone; anything of its group still alive (a stray worker) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    _children.discard(process)


def stop_all() -> None:
    for process in list(_children):
        stop(process, grace=5.0)


@dataclass
class Completed:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # wall time measured here, start to exit
    usage: dict = field(default_factory=dict)  # /usr/bin/time -v and /proc figures, when measured


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def run(
    command: Sequence[str],
    *,
    env: dict[str, str],
    timeout: float,
    what: str,
    capture: bool = True,
    check: bool = True,
) -> Completed:
    """Run a command to its end (at most ``timeout`` s). With ``capture=False`` its output goes
    straight to stderr (long builds show their progress)."""
    began = time.monotonic()
    process = spawn(
        command,
        env=env,
        stdout=subprocess.PIPE if capture else sys.stderr,  # stdout is for the figures
        stderr=subprocess.PIPE if capture else None,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: no result after {timeout:.0f} s; stopped it.") from None
    finally:
        stop(process)
    done = Completed(list(command), process.returncode, stdout or "", stderr or "", time.monotonic() - began)
    if check and done.returncode != 0:
        raise BenchError(f"{what} failed (exit status {done.returncode}):\n{tail(done.stderr + done.stdout)}")
    return done


def run_measured(command: Sequence[str], *, env: dict[str, str], timeout: float, what: str) -> Completed:
    """Run a command under ``/usr/bin/time -v`` while sampling its process tree every 50 ms.

    ``usage`` holds: ``max_rss_mb`` (time -v: the largest single process — the command itself, or
    a child it waited for, whichever peaked higher), ``wall_seconds`` (time -v), and from /proc:
    ``tree_rss_mb`` (peak of the summed VmRSS of the command and all its descendants; pages
    shared after fork count once per process), ``tree_pss_mb`` (peak of the summed PSS, shared
    pages divided among their sharers: the tree's real footprint), ``largest_hwm_mb`` (largest
    VmHWM seen) and ``processes`` (most processes at once).
    """
    if not Path(GNU_TIME).exists():
        raise BenchError(f"{GNU_TIME} is needed (Debian/Ubuntu: apt-get install time).")
    work_dir()
    with tempfile.NamedTemporaryFile("r", dir=WORK, prefix="time-", suffix=".txt") as report:
        wrapped = [GNU_TIME, "-v", "-o", report.name, *command]
        began = time.monotonic()
        process = spawn(wrapped, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = TreeSampler(process.pid, include_root=False)
        sampler.start()
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{what}: no result after {timeout:.0f} s; stopped it.") from None
        finally:
            sampler.finish()
            stop(process)
        seconds = time.monotonic() - began
        figures = parse_time_v(report.read())
    if process.returncode != 0:
        raise BenchError(f"{what} failed (exit status {process.returncode}):\n{tail(stderr + stdout)}")
    usage = {
        "wall_seconds": figures.get("wall_seconds", seconds),
        "max_rss_mb": figures.get("max_rss_kb", 0) / 1024,
        "tree_rss_mb": sampler.peak_rss / MB,
        "tree_pss_mb": sampler.peak_pss / MB,
        "largest_hwm_mb": sampler.peak_hwm / MB,
        "processes": sampler.peak_processes,
        "samples": sampler.samples,
    }
    return Completed(wrapped, process.returncode, stdout, stderr, seconds, usage)


def parse_time_v(text: str) -> dict:
    """The figures of GNU time's verbose report that the benchmarks use."""
    figures: dict = {}
    rss = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
    if rss:
        figures["max_rss_kb"] = int(rss.group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*([\d:.]+)", text)
    if wall:
        seconds = 0.0
        for part in wall.group(1).split(":"):
            seconds = seconds * 60 + float(part)
        figures["wall_seconds"] = seconds
    status = re.search(r"Exit status:\s*(\d+)", text)
    if status:
        figures["exit_status"] = int(status.group(1))
    return figures


class TreeSampler(threading.Thread):
    """Samples the memory of a process tree from /proc every ``interval`` seconds until finished.

    Short peaks between two samples are missed; VmHWM (each process's own high-water mark) is not.
    """

    def __init__(self, root: int, *, include_root: bool = True, interval: float = 0.05):
        super().__init__(name=f"sampler-{root}", daemon=True)
        self.root, self.include_root, self.interval = root, include_root, interval
        self.peak_rss = self.peak_pss = self.peak_hwm = self.peak_processes = self.samples = 0
        self._finished = threading.Event()

    def run(self) -> None:
        while not self._finished.is_set():
            self.sample()
            self._finished.wait(self.interval)

    def finish(self) -> None:
        self._finished.set()
        if self.is_alive():
            self.join()

    def sample(self) -> None:
        pids = descendants(self.root)
        if self.include_root:
            pids.insert(0, self.root)
        rss = pss = 0
        for pid in pids:
            status = read_proc(f"/proc/{pid}/status")
            rss += _kilobytes(status, "VmRSS") * 1024
            self.peak_hwm = max(self.peak_hwm, _kilobytes(status, "VmHWM") * 1024)
            pss += _kilobytes(read_proc(f"/proc/{pid}/smaps_rollup"), "Pss") * 1024
        self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
        self.peak_processes = max(self.peak_processes, len(pids))
        self.samples += 1


def _kilobytes(text: str, name: str) -> int:
    match = re.search(rf"^{name}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def cpu_busy(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time used during the next ``seconds``, by anyone. Called
    while the benchmark itself is idle, it tells how busy other processes keep the machine."""

    def counters() -> tuple[int, int]:
        ticks = [int(value) for value in read_proc("/proc/stat").splitlines()[0].split()[1:9]]
        return sum(ticks), ticks[3] + ticks[4]  # all; idle and iowait

    total, idle = counters()
    time.sleep(seconds)
    total_after, idle_after = counters()
    return 1 - (idle_after - idle) / max(total_after - total, 1)


QUIET = 0.15  # share of the CPUs other processes may use before a measurement is called noisy


def quiet_cpu(wait: float) -> float:
    """How busy other processes keep the CPUs (see cpu_busy); when they are busier than QUIET,
    wait up to ``wait`` seconds for them to calm down. Returns the last reading."""
    deadline = time.monotonic() + wait
    busy = cpu_busy()
    if busy > QUIET and wait > 0:
        log(f"other processes use {busy:.0%} of the CPUs: waiting up to {wait:.0f} s for quiet")
        while busy > QUIET and time.monotonic() < deadline:
            busy = cpu_busy()
    return busy


def busy_note(busy: float, threshold: float = QUIET) -> str:
    """A warning to print when other processes were using the CPUs before a measurement."""
    if busy <= threshold:
        return ""
    return f"other processes kept {busy:.0%} of the CPUs busy just before: these figures are noisy"


# ---------------------------------------------------------------------------------------------
# Bench databases


@dataclass(frozen=True)
class BenchDatabase:
    """A benchmark's own database: an SQLite file under /tmp/sdgscore-bench/ or a PostgreSQL
    database on 127.0.0.1, both named ``sdgscore_bench_<n>[_<use>]``."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.path if self.kind == 'sqlite' else self.name}"

    @property
    def path(self) -> Path:
        return WORK / f"{self.name}.sqlite3"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}" if self.kind == "sqlite" else f"{POSTGRES_URL}/{self.name}"

    def exists(self) -> bool:
        if self.kind == "sqlite":
            return self.path.exists()
        with _postgres() as connection:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name])
            return found.fetchone() is not None

    def create(self) -> None:
        """An empty database (dropping any of the same name)."""
        self.drop()
        if self.kind == "sqlite":
            work_dir()
            return
        from psycopg import sql

        with _postgres() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def copy_from(self, source: BenchDatabase) -> None:
        """A fresh copy of ``source``: the file for SQLite (its WAL folded in first), a template
        copy for PostgreSQL (no one may be connected to the source meanwhile)."""
        self.drop()
        if self.kind == "sqlite":
            with contextlib.closing(sqlite3.connect(source.path)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            work_dir()
            shutil.copyfile(source.path, self.path)
            return
        from psycopg import sql

        with _postgres() as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.name), sql.Identifier(source.name)
                )
            )

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        drop_postgres_database(POSTGRES_URL, self.name)


def bench_database(kind: str, size: int, use: str = "") -> BenchDatabase:
    if kind not in DATABASE_KINDS:
        raise BenchError(f"unknown database {kind!r}: give one of {', '.join(DATABASE_KINDS)}.")
    return BenchDatabase(kind, f"sdgscore_bench_{size}" + (f"_{use}" if use else ""))


@contextlib.contextmanager
def _postgres():
    try:
        import psycopg
    except ImportError:
        raise BenchError("psycopg is needed for PostgreSQL (it is in requirements.txt).") from None
    try:
        connection = psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}".strip()) from None
    try:
        yield connection
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL: {exc}".strip()) from None
    finally:
        connection.close()


COUNT_SYNTHETIC = f"""
import json
from django.core.management import call_command
from projects.models import Project
from projects.vocabularies import Origin
call_command("migrate", interactive=False, verbosity=0)
print({MARKER!r} + json.dumps({{"synthetic": Project.objects.filter(origin=Origin.SYNTHETIC).count()}}))
"""


def django_shell(database: BenchDatabase, code: str, *, what: str, timeout: float = 600, **env: str):
    """Run a snippet with ``manage.py shell -c`` on ``database``; returns the JSON it printed
    after MARKER."""
    done = run(
        [PYTHON, MANAGE, "shell", "-c", code],
        env=django_env(database.url, **env),
        timeout=timeout,
        what=what,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line.removeprefix(MARKER))
    raise BenchError(f"{what}: no answer in its output:\n{tail(done.stdout + done.stderr)}")


def ensure_built(database: BenchDatabase, size: int, *, rebuild: bool = False) -> str:
    """Make ``database`` hold exactly ``size`` synthetic projects, migrated to the current code.

    An existing one with exactly that many is reused (migrated first, in case the code gained a
    migration); any other is dropped and built again with ``migrate`` and ``generate_projects``.
    Returns "reused" or "built". A build that fails or is interrupted is dropped.
    """
    if rebuild:
        database.drop()
    elif database.exists():
        found = django_shell(database, COUNT_SYNTHETIC, what=f"migrating {database}", timeout=1800)
        if found["synthetic"] == size:
            log(f"reusing {database} ({size:,} synthetic projects)")
            return "reused"
        log(f"{database} holds {found['synthetic']:,} synthetic projects, not {size:,}: building it again")
    log(f"building {database}: migrate, then generate_projects {size} (about {size / 170:.0f} s)")
    began = time.monotonic()
    try:
        database.create()
        env = django_env(database.url)
        run([PYTHON, MANAGE, "migrate", "--noinput", "-v0"], env=env, timeout=600, what="migrate")
        run(
            [PYTHON, MANAGE, "generate_projects", str(size)],
            env=env,
            timeout=300 + size * 0.05,
            what=f"generate_projects {size}",
            capture=False,
        )
        found = django_shell(database, COUNT_SYNTHETIC, what=f"counting {database}")
        if found["synthetic"] != size:
            raise BenchError(f"{database}: generate_projects made {found['synthetic']} projects, not {size}.")
    except BaseException:
        with contextlib.suppress(Exception):
            database.drop()
        raise
    log(f"built {database} in {time.monotonic() - began:.0f} s")
    return "built"


def collect_static(database: BenchDatabase) -> None:
    """``collectstatic`` into STATIC_ROOT (under /tmp/sdgscore-bench/), which the production
    settings' manifest storage needs to render pages."""
    run(
        [PYTHON, MANAGE, "collectstatic", "--noinput", "-v0"],
        env=django_env(database.url),
        timeout=300,
        what="collectstatic",
    )


# ---------------------------------------------------------------------------------------------
# Output


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, left: int = 1, align: str = "") -> str:
    """A plain-text table: the first ``left`` columns aligned left and the others right, or as
    ``align`` says, one letter a column ("l" or "r"). None shows as a dash."""
    cells = [[str(header) for header in headers]] + [["—" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    align = align or "l" * left + "r" * (len(headers) - left)

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(row, widths, align, strict=True)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("ok" if ok else "MISSED")


def write_results(name: str, database: str, payload: dict) -> Path:
    """bench/results/<name>-<database>.json: the figures with the machine and code they came from."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "database": database,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.executable).name, "-m", f"bench.{name}", *sys.argv[1:]],
        "machine": machine(),
        "code": code_version(),
        **payload,
    }
    path = RESULTS / f"{name}-{database}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def machine() -> dict:
    cpuinfo = read_proc("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return {
        "cpus": os.cpu_count(),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "memory_mb": _kilobytes(read_proc("/proc/meminfo"), "MemTotal") // 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def code_version() -> dict:
    """The commit measured, and the files changed since (the code is measured as it stands)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(  # noqa: S603
                ["git", *args],  # noqa: S607
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.rstrip() if done.returncode == 0 else ""  # porcelain lines start with a space

    changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {"commit": git("rev-parse", "HEAD") or None, "changed_files": changed}


def measure_each(
    name: str,
    databases: Sequence[str],
    sizes: Sequence[int],
    measure: Callable[[str, int], dict],
    targets: dict,
) -> list[dict]:
    """``measure(database, size)`` for each database and size, the results of each database
    written to bench/results/<name>-<database>.json (with ``targets``) as they come."""
    results: list[dict] = []
    for kind in databases:
        done = []
        path = None
        for size in sizes:
            done.append(measure(kind, size))
            path = write_results(name, kind, {"targets": targets, "runs": done})
        results += done
        log(f"wrote {path}")
    return results
