"""The stored uncertainty run (the method's §8 and §10) as the service does it: time and memory.

    .venv/bin/python -m bench.uncertainty_run [--sizes 1000 100000] [--databases sqlite postgres]

For each database and size, on a fresh copy of the bench database of that many synthetic projects
(built once and reused, see bench/README.md; every one rated and published under method 1.0):

1. ``manage.py uncertainty --no-progress`` twice, each run by ``/usr/bin/time -v`` while its
   process tree is sampled from /proc: the *first* run (no run stored yet) and the run *again*
   (the steady state: it replaces the first, whose rows go in its closing transaction).
2. A breakdown: ``uncertainty_compute()`` itself, called once more by ``manage.py shell -c`` with
   the functions it calls wrapped in timers (nothing in projects/ is changed): reading the
   published ratings, validating and encoding them, the engine, the §10 screen and exact
   decisions, writing the rows, and the transaction that makes the run the current one.

The copy is dropped afterwards. Targets (issue 15): 100,000 projects × 1,000 scenarios in ≤ 60 s
and ≤ 1 GB; 1,000 projects in ≤ 2 s. Figures go to stdout and
bench/results/uncertainty_run-<database>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading

from harness import read_proc

from .common import (
    DATABASE_KINDS,
    MANAGE,
    MARKER,
    PYTHON,
    QUIET,
    BenchError,
    bench_database,
    busy_note,
    django_env,
    django_shell,
    ensure_built,
    log,
    main_guard,
    measure_each,
    quiet_cpu,
    run_measured,
    size_and_database_arguments,
    table,
    verdict,
)

TARGETS = {1_000: (2.0, None), 100_000: (60.0, 1024.0)}  # projects: (seconds, MB)
COMPUTED = re.compile(r"Uncertainty of (\d+) rated published projects .*?(\d+) scenarios.* in ([\d.]+) s\.")

# uncertainty_compute() with the functions it calls timed, in the same process as a real run.
# Each wrapped name is looked up where the service calls it (projects.services.uncertainty's
# globals, projects.scoring, QuerySet), so the code path is the service's own. A name the
# service no longer has is reported as missing rather than failing the run.
BREAKDOWN = f"""
import json, threading, time
from django.db.models import QuerySet
from projects import scoring
import projects.services.uncertainty as service
from projects.models import Project, ProjectUncertainty, UncertaintyRun
from projects.selectors import methodology_current
from projects.vocabularies import Origin

def memory():
    figures = {{}}
    for line in open("/proc/self/status"):
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) / 1024
    return figures

steps, missing, extra, active = {{}}, [], {{}}, threading.local()
CONTAINERS = {{"compute"}}  # timed, but the steps inside it are still top-level steps

def timed(label, function, *, only=None, light=False, count=None):
    def wrapper(*args, **kwargs):
        if only is not None and not only(args):
            return function(*args, **kwargs)
        stack = active.__dict__.setdefault("stack", [])
        if label in stack:  # the same step calling itself under another name: counted once
            return function(*args, **kwargs)
        within = next((outer for outer in reversed(stack) if outer not in CONTAINERS), None)
        stack.append(label)
        began = time.perf_counter()
        try:
            result = function(*args, **kwargs)
        finally:
            stack.pop()
        seconds = time.perf_counter() - began
        step = steps.setdefault(label, {{"seconds": 0.0, "calls": 0, "within": None}})
        step["seconds"] += seconds
        step["calls"] += 1
        if within is not None:
            step["within"] = within  # nested: its time is part of ``within``'s
        if not light:
            now = memory()
            step["rss_mb"], step["hwm_mb"] = now["VmRSS"], now["VmHWM"]
        if count is not None:
            count(result)
        return result
    return wrapper

def patch(label, places, **options):
    found = [(owner, name) for owner, name in places if hasattr(owner, name)]
    if not found:
        missing.append(label + " (" + ", ".join(name for _owner, name in places) + ")")
    for owner, name in found:
        setattr(owner, name, timed(label, getattr(owner, name), **options))

def screened(found):
    # Whatever form the screen's answer takes: per project, the candidate changes it leaves to
    # the exact engine (a list; or an object with ``ask``/``candidates``, ``exact``).
    def left(result):
        if isinstance(result, (list, tuple)):
            return len(result)
        return len(getattr(result, "ask", ()) or getattr(result, "candidates", ()) or ())
    extra["projects_left_to_exact"] = sum(1 for result in found if left(result))
    extra["candidates_left_to_exact"] = sum(left(result) for result in found)

def decided(changes):
    extra["grade_changes"] = sum(len(found) for found in changes)
    extra["projects_with_grade_changes"] = sum(1 for found in changes if found)

def counted(count):
    def safely(result):
        try:
            count(result)
        except Exception as error:  # a count is a by-product: it must never fail the run
            extra.setdefault("count_errors", []).append(f"{{count.__name__}}: {{error!r}}")
    return safely

# Each step under the names the service has called it by; a step it no longer has is reported.
patch("read", [(service, "rated_published"), (service, "rated_published_encoded")])
patch("validate", [(scoring, "validate_ratings")], light=True)
patch("encode", [(service, "encode"), (service, "encode_parts")])
patch("engine", [(service, "uncertainty")])
patch(
    "screen", [(service, "grade_changes_screened")],
    count=counted(screened),
)
patch("exact", [(service, "grade_changes_of")], count=counted(decided))
patch(
    "exact_engine", [(service, "decide_changes"), (scoring, "grade_changes_among")], light=True
)
patch("compute", [(service, "_compute")])
patch(
    "insert", [(QuerySet, "bulk_create"), (service, "insert_rows")],
    only=lambda args: getattr(args[0], "model", args[0]) is ProjectUncertainty,
)
patch(
    "delete", [(QuerySet, "delete")],
    only=lambda args: args[0].model in (UncertaintyRun, ProjectUncertainty),
)

methodology = methodology_current()
before = service.current_run()
counts = {{
    "synthetic": Project.objects.filter(origin=Origin.SYNTHETIC).count(),
    "published": Project.objects.published().count(),
    "rated_published": Project.objects.published()
    .filter(published_net__isnull=False, publication__methodology=methodology)
    .count(),
    "previous_run_projects": before.projects if before else None,
    "previous_run_rows": ProjectUncertainty.objects.filter(run=before).count() if before else 0,
}}
start = memory()
began = time.perf_counter()
run = service.uncertainty_compute(reason="bench breakdown")
total = time.perf_counter() - began
counts["rows"] = ProjectUncertainty.objects.filter(run=run).count()
counts["run_projects"] = run.projects
counts["run_state"] = run.state
counts["runs_kept"] = UncertaintyRun.objects.count()
print({MARKER!r} + json.dumps({{
    "total_seconds": total, "steps": steps, "missing": missing, "extra": extra,
    "counts": counts, "memory_start": start, "memory_end": memory(),
}}))
"""


class OthersBusy(threading.Thread):
    """The share of the machine's CPU time that other processes used while a command ran: all
    the CPU used (/proc/stat) less this benchmark's own (itself, and the children it waited for:
    os.times) and, on PostgreSQL, less the server's backends serving the working copy (found
    by their process title, which names the database, and read from /proc every 0.25 s). Use as
    a context manager around the command; ``share`` is set on exit."""

    def __init__(self, database: str | None = None):
        super().__init__(name="others-busy", daemon=True)
        self.database = database
        self.backends: dict[int, int] = {}  # pid: CPU ticks last seen
        self.share = 0.0
        self._finished = threading.Event()

    def __enter__(self) -> OthersBusy:
        self.machine, self.own = _machine_ticks(), os.times()
        if self.database:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._finished.set()
        if self.is_alive():
            self.join()
        (total, idle), (total_0, idle_0) = _machine_ticks(), self.machine
        own = os.times()
        hertz = os.sysconf("SC_CLK_TCK")
        ours = sum(now - then for now, then in zip(own[:4], self.own[:4], strict=True)) * hertz + sum(
            self.backends.values()
        )
        elapsed = max(total - total_0, 1)
        self.share = max(0.0, ((elapsed - (idle - idle_0)) - ours) / elapsed)

    def run(self) -> None:
        while True:
            self._scan()
            if self._finished.wait(0.25):
                self._scan()
                return

    def _scan(self) -> None:
        title = f" {self.database} "
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            if title not in read_proc(f"/proc/{entry}/cmdline").replace("\0", " ") + " ":
                continue
            stat = read_proc(f"/proc/{entry}/stat")
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 12:
                ticks = int(fields[11]) + int(fields[12])  # utime + stime
                self.backends[int(entry)] = max(self.backends.get(int(entry), 0), ticks)


def _machine_ticks() -> tuple[int, int]:
    ticks = [int(value) for value in read_proc("/proc/stat").splitlines()[0].split()[1:9]]
    return sum(ticks), ticks[3] + ticks[4]  # all; idle and iowait


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.uncertainty_run", description=__doc__.split("\n\n")[0]
    )
    size_and_database_arguments(
        parser, sizes=[1_000, 100_000], databases=list(DATABASE_KINDS), waits_before="each measured run"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds allowed to each run (default 300 + N/50)"
    )
    parser.add_argument(
        "--no-breakdown", action="store_true", help="only the two timed runs of manage.py uncertainty"
    )
    return parser.parse_args()


def command_run(work, size: int, *, label: str, timeout: float, wait_quiet: float) -> dict:
    busy = quiet_cpu(wait_quiet)
    log(f"{work}: manage.py uncertainty --no-progress ({label})")
    with OthersBusy(work.name if work.kind == "postgres" else None) as others:
        done = run_measured(
            [PYTHON, MANAGE, "uncertainty", "--no-progress"],
            env=django_env(work.url),
            timeout=timeout,
            what=f"uncertainty of {size:,} projects on {work.kind}",
        )
    said = COMPUTED.search(done.stdout)
    if said is None:
        raise BenchError(f"manage.py uncertainty said something unexpected:\n{done.stdout}{done.stderr}")
    return {
        **done.usage,
        "run": label,
        "cpu_busy_before": busy,
        "others_busy_during": others.share,
        "projects": int(said.group(1)),
        "scenarios": int(said.group(2)),
        "reported_seconds": float(said.group(3)),
        "output": done.stdout.strip(),
    }


NO_RUNS = f"""
from projects.models import ProjectUncertainty, UncertaintyRun
ProjectUncertainty.objects.all().delete()
UncertaintyRun.objects.all().delete()
print({MARKER!r} + "{{}}")
"""


def breakdown(work, size: int, *, timeout: float, wait_quiet: float) -> dict:
    busy = quiet_cpu(wait_quiet)
    log(f"{work}: breakdown (uncertainty_compute with its steps timed)")
    with OthersBusy(work.name if work.kind == "postgres" else None) as others:
        done = run_measured(
            [PYTHON, MANAGE, "shell", "-c", BREAKDOWN],
            env=django_env(work.url),
            timeout=timeout,
            what=f"breakdown of {size:,} projects on {work.kind}",
        )
    answers = [line.removeprefix(MARKER) for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if not answers:
        raise BenchError(f"the breakdown said nothing:\n{done.stdout}{done.stderr}")
    figures = json.loads(answers[-1])
    steps = figures["steps"]

    def seconds(*labels: str) -> float | None:
        """The time of these steps where they were top-level steps (not inside another one)."""
        found = [steps[label] for label in labels if label in steps and steps[label]["within"] is None]
        return sum(step["seconds"] for step in found) if found else None

    def nested(*labels: str) -> str | None:
        """The step these ran inside, if they did."""
        return next((steps[label]["within"] for label in labels if steps.get(label, {}).get("within")), None)

    inside = sum(
        seconds(label) or 0.0 for label in ("read", "validate", "encode", "engine", "screen", "exact")
    )
    compute = seconds("compute")
    phases = {
        "read": seconds("read"),
        "validate_encode": seconds("validate", "encode"),
        "engine": seconds("engine"),
        "screen": seconds("screen"),
        "exact": seconds("exact"),
        # Building the rows and inserting them (insert: the INSERTs or COPY alone).
        "write": None if compute is None else compute - inside,
        "insert": steps.get("insert", {}).get("seconds"),
        # Creating the run, the heartbeat's end and the DONE transaction (delete: older runs' rows).
        "done": None if compute is None else figures["total_seconds"] - compute,
        "delete": steps.get("delete", {}).get("seconds"),
        "total": figures["total_seconds"],
    }
    # Where a step ran inside another, its column says so (its time is in that one's).
    within = {"validate_encode": nested("validate", "encode"), "engine": nested("engine")}
    within.update(screen=nested("screen"), exact=nested("exact"))
    phases["within"] = {name: outer for name, outer in within.items() if outer}
    return {
        **figures,
        "phases": phases,
        "cpu_busy_before": busy,
        "others_busy_during": others.share,
        "command": done.usage,
    }


def measure(
    kind: str, size: int, *, rebuild: bool, timeout: float | None, wait_quiet: float, split: bool
) -> dict:
    base = bench_database(kind, size)
    built = ensure_built(base, size, rebuild=rebuild)
    work = bench_database(kind, size, "uncertainty")
    limit = timeout or 300 + size / 50
    try:
        log(f"{work}: fresh copy of the {size:,}-project database")
        work.copy_from(base)
        # bench.http computes a run in the base database (its pages show the figures): gone here,
        # so that "first" is a run with none stored before it.
        django_shell(work, NO_RUNS, what="removing stored runs")
        runs = [
            command_run(work, size, label=label, timeout=limit, wait_quiet=wait_quiet)
            for label in ("first", "again")
        ]
        parts = breakdown(work, size, timeout=limit, wait_quiet=wait_quiet) if split else None
    finally:
        work.drop()
    if parts is not None:
        counts = parts["counts"]
        if counts["previous_run_rows"] != runs[-1]["projects"]:
            raise BenchError(
                f"the command reported {runs[-1]['projects']} projects but stored "
                f"{counts['previous_run_rows']} rows."
            )
        if counts["rows"] != counts["rated_published"]:
            raise BenchError(
                f"the breakdown's run stored {counts['rows']} rows for {counts['rated_published']} "
                "rated published projects."
            )
    if runs[0]["projects"] != size:
        log(f"note: {runs[0]['projects']:,} of the {size:,} synthetic projects were in the run")
    return {
        "size": size,
        "database": kind,
        "database_reused": built == "reused",
        "runs": runs,
        "breakdown": parts,
    }


def report(results: list[dict]) -> None:
    print("\nThe full run: manage.py uncertainty --no-progress (K = 1,000 scenarios)")
    rows = []
    for result in results:
        for run in result["runs"]:
            rows.append(
                [
                    f"{result['size']:,}",
                    result["database"],
                    run["run"],
                    f"{run['projects']:,}",
                    f"{run['wall_seconds']:.1f}",
                    f"{run['reported_seconds']:.1f}",
                    f"{run['max_rss_mb']:.0f}",
                    f"{run['tree_pss_mb']:.0f}",
                    f"{run['cpu_busy_before']:.0%}",
                    f"{run['others_busy_during']:.0%}",
                ]
            )
    print(
        table(
            [
                "size",
                "database",
                "run",
                "projects",
                "seconds",
                "own s",
                "max RSS MB",
                "tree PSS MB",
                "busy before",
                "during",
            ],
            rows,
            left=3,
        )
    )
    print(
        "size: synthetic projects in the database; projects: rated published projects in the run\n"
        "(ProjectUncertainty rows). first: no run stored yet; again: replacing the first run.\n"
        "seconds: wall time of the command (/usr/bin/time -v), Django start-up included; own s: the time\n"
        "the command reports itself (uncertainty_compute). max RSS: peak of the process (/usr/bin/time\n"
        "-v); tree PSS: peak of its process tree (sampled every 50 ms). The database server's own memory\n"
        "(PostgreSQL) is not counted. busy before: the CPU other processes used in the second before;\n"
        "during: the share of the CPUs other processes used while it ran (this benchmark's processes and\n"
        "the PostgreSQL backends serving the working copy left out). Near 0% is quiet; with 2 cores, 50%\n"
        "means another process took a whole core from the run."
    )
    for result in results:
        for run in result["runs"]:
            if note := _noise(run):
                print(f"  {result['size']:,} on {result['database']}, {run['run']}: {note}")

    split = [result for result in results if result["breakdown"]]
    if split:
        print(
            "\nBreakdown: uncertainty_compute() with its steps timed, in seconds"
            " (a third run, replacing the second)"
        )

        def cell(phases: dict, name: str) -> str | None:
            if outer := phases.get("within", {}).get(name):
                return f"in {outer}"
            value = phases.get(name)
            return None if value is None else f"{value:.2f}"

        print(
            table(
                [
                    "size",
                    "database",
                    "read",
                    "valid+enc",
                    "engine",
                    "§10 screen",
                    "§10 exact",
                    "write",
                    "of which insert",
                    "done txn",
                    "of which delete",
                    "total",
                    "peak MB",
                    "busy before",
                    "during",
                ],
                [
                    [
                        f"{result['size']:,}",
                        result["database"],
                        *(
                            cell(result["breakdown"]["phases"], name)
                            for name in (
                                "read",
                                "validate_encode",
                                "engine",
                                "screen",
                                "exact",
                                "write",
                                "insert",
                                "done",
                                "delete",
                                "total",
                            )
                        ),
                        f"{result['breakdown']['command']['max_rss_mb']:.0f}",
                        f"{result['breakdown']['cpu_busy_before']:.0%}",
                        f"{result['breakdown']['others_busy_during']:.0%}",
                    ]
                    for result in split
                ],
                left=2,
            )
        )
        print(
            'read: rated_published[_encoded] (the query and the ratings; "in read": a step it does itself);\n'
            "valid+enc: validate_ratings and encode; engine: the §8 engine (uncertainty); §10 screen:\n"
            "grade_changes_screened (within the read); §10 exact: grade_changes_of (the exact\n"
            "engine's decisions); write: building the rows and inserting them (insert: the INSERTs\n"
            "or COPY alone); done txn: creating the run, the heartbeat's end and the transaction\n"
            "that makes it current (delete: removing the older run's rows)."
        )
        print("\nMemory of the breakdown's process after each step (VmHWM, MB: the peak so far)")
        print(
            table(
                [
                    "size",
                    "database",
                    "start",
                    "read",
                    "encode",
                    "engine",
                    "§10 screen",
                    "§10 exact",
                    "written",
                ],
                [
                    [
                        f"{result['size']:,}",
                        result["database"],
                        f"{result['breakdown']['memory_start']['VmHWM']:.0f}",
                        *(
                            _hwm(result["breakdown"]["steps"], label)
                            for label in ("read", "encode", "engine", "screen", "exact", "compute")
                        ),
                    ]
                    for result in split
                ],
                left=2,
            )
        )
        for result in split:
            extra, counts = result["breakdown"]["extra"], result["breakdown"]["counts"]
            print(
                f"  {result['size']:,} on {result['database']}: {counts['rows']:,} rows for "
                f"{counts['rated_published']:,} rated published of {counts['synthetic']:,} synthetic "
                f"projects; §10: {extra.get('grade_changes', 0):,} grade changes in "
                f"{extra.get('projects_with_grade_changes', 0):,} projects; left to the exact engine: "
                f"{extra.get('candidates_left_to_exact', 0):,} candidate changes of "
                f"{extra.get('projects_left_to_exact', 0):,} projects (the exact engine called "
                f"{result['breakdown']['steps'].get('exact_engine', {}).get('calls', 0):,} times, "
                f"{result['breakdown']['steps'].get('exact_engine', {}).get('seconds', 0):.1f} s)"
            )
            if errors := extra.get("count_errors"):
                print(f"    not counted: {'; '.join(errors)}")
            if missing := result["breakdown"]["missing"]:
                print(f"    not found in the service, so not timed: {', '.join(missing)}")
            if note := _noise(result["breakdown"]):
                print(f"    breakdown: {note}")

    print("\nTargets (issue 15): 100,000 projects in ≤ 60 s and ≤ 1 GB; 1,000 projects in ≤ 2 s")
    rows = []
    for result in results:
        seconds_target, mb_target = TARGETS.get(result["size"], (None, None))
        if seconds_target is None:
            continue
        for run in result["runs"]:
            rows.append(
                [
                    f"{result['size']:,}",
                    result["database"],
                    run["run"],
                    f"{run['reported_seconds']:.1f}",
                    verdict(run["reported_seconds"] <= seconds_target),
                    f"{run['wall_seconds']:.1f}",
                    verdict(run["wall_seconds"] <= seconds_target),
                    f"{run['max_rss_mb']:.0f}",
                    verdict(None if mb_target is None else run["max_rss_mb"] <= mb_target),
                ]
            )
    if not rows:
        print("  (not measured: no run at 1,000 or 100,000 projects)")
        return
    print(table(["size", "database", "run", "own s", "", "seconds", "", "max RSS MB", ""], rows, left=3))
    print("own s: the run itself; seconds: the whole command, Django start-up included.")


def _noise(figures: dict) -> str:
    """A warning when other processes used the CPUs just before or while a command ran."""
    if note := busy_note(figures["cpu_busy_before"]):
        return note
    during = figures.get("others_busy_during", 0.0)
    if during > QUIET:
        return f"other processes used {during:.0%} of the CPUs while it ran: these figures are noisy"
    return ""


def _hwm(steps: dict, label: str) -> str | None:
    step = steps.get(label)
    return None if step is None or "hwm_mb" not in step else f"{step['hwm_mb']:.0f}"


def main() -> int:
    arguments = parse_arguments()

    def one(kind: str, size: int) -> dict:
        return measure(
            kind,
            size,
            rebuild=arguments.rebuild,
            timeout=arguments.timeout,
            wait_quiet=arguments.wait_quiet,
            split=not arguments.no_breakdown,
        )

    targets = {str(size): list(target) for size, target in TARGETS.items()}
    report(measure_each("uncertainty_run", arguments.databases, arguments.sizes, one, targets))
    return 0


if __name__ == "__main__":
    main_guard("bench.uncertainty_run", main)
