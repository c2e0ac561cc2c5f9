"""Rescoring every project under a new method version: time and memory.

    .venv/bin/python -m bench.rescore [--sizes 10000 100000] [--databases sqlite postgres] [--jobs 2]

For each size and database: a fresh copy of the bench database of that many synthetic projects
(built once and reused, see bench/README.md); method 1.1 (1.0 with alpha 0.6) is installed and
published — the ratings carried over from 1.0, timed on its own, no task queued — and then
``manage.py rescore --no-progress --jobs J`` rescores every project under it, run by
``/usr/bin/time -v`` while its process tree is sampled from /proc every 50 ms. The copy is
dropped afterwards. Figures go to stdout and bench/results/rescore-<database>.json.
"""

from __future__ import annotations

import argparse
import json
import re

from .common import (
    DATABASE_KINDS,
    MANAGE,
    MARKER,
    PYTHON,
    BenchError,
    bench_database,
    busy_note,
    django_env,
    ensure_built,
    log,
    main_guard,
    measure_each,
    positive_int,
    quiet_cpu,
    run_measured,
    size_and_database_arguments,
    table,
    verdict,
)

TARGET_SIZE = 100_000
TARGET_SECONDS = 30.0
TARGET_MB = 300.0
DUMMY_TASKS = "django_tasks.backends.dummy.DummyBackend"  # publishing queues nothing: rescore does the work

PUBLISH = f"""
import json, time
from projects.methodology import method_file_data, method_install
from projects.models import Methodology, Criterion
from projects.services.methodology import methodology_publish
from django.contrib.auth import get_user_model
from projects import actors
releaser, _ = get_user_model().objects.get_or_create(
    username="bench-admin", defaults={{"is_staff": True, "is_superuser": True}}
)
began = time.perf_counter()
data = method_file_data("1.0"); data["version"] = "1.1"; data["alpha"] = "0.6"
m = method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")
installed = time.perf_counter()
with actors.acting(releaser, "shell"):
    methodology_publish(methodology=m)
published = time.perf_counter()
times = {{"install_seconds": installed - began, "publish_seconds": published - installed}}
print({MARKER!r} + json.dumps(times))
"""
RESCORED = re.compile(r"Rescored (\d+) projects")
OWN_SECONDS = re.compile(r" in ([\d.]+) s")
NEW_CARDS = re.compile(r"(\d+) new score cards")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.rescore", description=__doc__.split("\n\n")[0])
    size_and_database_arguments(
        parser, sizes=[10_000, 100_000], databases=list(DATABASE_KINDS), waits_before="each timed step"
    )
    parser.add_argument("--jobs", type=positive_int, default=2, help="rescore --jobs (default 2)")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds allowed to each rescore (default 300 + N/100)"
    )
    return parser.parse_args()


def measure(
    kind: str, size: int, *, jobs: int, rebuild: bool, timeout: float | None, wait_quiet: float
) -> dict:
    base = bench_database(kind, size)
    built = ensure_built(base, size, rebuild=rebuild)
    work = bench_database(kind, size, "rescore")
    try:
        log(f"{work}: fresh copy of the {size:,}-project database")
        work.copy_from(base)
        busy_publish = quiet_cpu(wait_quiet)
        log("publishing method 1.1 (ratings carried over from 1.0)")
        publish = run_measured(
            [PYTHON, MANAGE, "shell", "-c", PUBLISH],
            env=django_env(work.url, TASKS_BACKEND=DUMMY_TASKS),
            timeout=300 + size / 200,
            what="publishing method 1.1",
        )
        steps = [line.removeprefix(MARKER) for line in publish.stdout.splitlines() if line.startswith(MARKER)]
        if not steps:
            raise BenchError(f"publishing method 1.1 said nothing:\n{publish.stdout}{publish.stderr}")
        busy = quiet_cpu(wait_quiet)
        log(f"rescore --no-progress --jobs {jobs}")
        rescore = run_measured(
            [PYTHON, MANAGE, "rescore", "--no-progress", "--jobs", str(jobs)],
            env=django_env(work.url),
            timeout=timeout or 300 + size / 100,
            what=f"rescore of {size:,} projects on {kind}",
        )
    finally:
        work.drop()
    said = RESCORED.search(rescore.stdout)
    if said is None:
        raise BenchError(f"rescore said something unexpected:\n{rescore.stdout}{rescore.stderr}")
    if int(said.group(1)) != size:
        raise BenchError(f"rescore rescored {said.group(1)} projects, not {size}.")
    own, cards = OWN_SECONDS.search(rescore.stdout), NEW_CARDS.search(rescore.stdout)
    publish_steps = json.loads(steps[-1])
    seconds = rescore.usage["wall_seconds"]
    return {
        "size": size,
        "database": kind,
        "jobs": jobs,
        "database_reused": built == "reused",
        "cpu_busy_before": busy,
        "publish": {**publish_steps, "command": publish.usage, "cpu_busy_before": busy_publish},
        "rescore": {
            **rescore.usage,
            "projects_per_second": size / seconds,
            "reported_seconds": float(own.group(1)) if own else None,
            "new_cards": int(cards.group(1)) if cards else None,
            "output": rescore.stdout.strip(),
        },
    }


def report(runs: list[dict]) -> None:
    print("\nRescore: manage.py rescore after publishing method 1.1 (wall time of the whole command)")
    print(
        table(
            [
                "projects",
                "database",
                "jobs",
                "seconds",
                "own s",
                "projects/s",
                "max RSS MB",
                "tree RSS MB",
                "tree PSS MB",
                "procs",
                "cards",
                "busy",
            ],
            [
                [
                    f"{run['size']:,}",
                    run["database"],
                    run["jobs"],
                    f"{run['rescore']['wall_seconds']:.1f}",
                    _number(run["rescore"]["reported_seconds"], "{:.1f}"),
                    f"{run['rescore']['projects_per_second']:,.0f}",
                    f"{run['rescore']['max_rss_mb']:.0f}",
                    f"{run['rescore']['tree_rss_mb']:.0f}",
                    f"{run['rescore']['tree_pss_mb']:.0f}",
                    run["rescore"]["processes"],
                    _number(run["rescore"]["new_cards"], "{:,}"),
                    f"{run['cpu_busy_before']:.0%}",
                ]
                for run in runs
            ],
            left=2,
        )
    )
    print(
        "seconds: wall time of the command (/usr/bin/time -v), Django start-up included; own s: the time\n"
        "rescore reports itself. projects/s: projects ÷ seconds.\n"
        "max RSS: the largest single process (/usr/bin/time -v). tree RSS: peak of the summed RSS of\n"
        "the command and its --jobs children (pages they share after fork counted in each); tree PSS:\n"
        "the same with shared pages divided among the processes sharing them (sampled every 50 ms).\n"
        "busy: CPU used by other processes in the second before the command (should be near 0%)."
    )
    for run in runs:
        if note := busy_note(run["cpu_busy_before"]):
            print(f"  {run['size']:,} on {run['database']}: {note}")
    print("\nMethod publication (install 1.1, then publish: ratings carried over from 1.0; no task queued)")
    print(
        table(
            ["projects", "database", "install s", "publish s", "command s", "max RSS MB", "busy"],
            [
                [
                    f"{run['size']:,}",
                    run["database"],
                    f"{run['publish']['install_seconds']:.2f}",
                    f"{run['publish']['publish_seconds']:.1f}",
                    f"{run['publish']['command']['wall_seconds']:.1f}",
                    f"{run['publish']['command']['max_rss_mb']:.0f}",
                    f"{run['publish']['cpu_busy_before']:.0%}",
                ]
                for run in runs
            ],
            left=2,
        )
    )
    at_target = [run for run in runs if run["size"] == TARGET_SIZE]
    print(
        f"\nTargets at {TARGET_SIZE:,} projects: rescore ≤ {TARGET_SECONDS:.0f} s, "
        f"peak memory ≤ {TARGET_MB:.0f} MB"
    )
    if not at_target:
        print(f"  (not measured: no run at {TARGET_SIZE:,} projects)")
        return
    print(
        table(
            ["database", "seconds", "", "max RSS MB", "", "tree PSS MB", "", "tree RSS MB", ""],
            [
                [
                    run["database"],
                    f"{run['rescore']['wall_seconds']:.1f}",
                    verdict(run["rescore"]["wall_seconds"] <= TARGET_SECONDS),
                    f"{run['rescore']['max_rss_mb']:.0f}",
                    verdict(run["rescore"]["max_rss_mb"] <= TARGET_MB),
                    f"{run['rescore']['tree_pss_mb']:.0f}",
                    verdict(run["rescore"]["tree_pss_mb"] <= TARGET_MB),
                    f"{run['rescore']['tree_rss_mb']:.0f}",
                    verdict(run["rescore"]["tree_rss_mb"] <= TARGET_MB),
                ]
                for run in at_target
            ],
        )
    )


def _number(value: float | None, form: str) -> str | None:
    return None if value is None else form.format(value)


def main() -> int:
    arguments = parse_arguments()

    def one(kind: str, size: int) -> dict:
        return measure(
            kind,
            size,
            jobs=arguments.jobs,
            rebuild=arguments.rebuild,
            timeout=arguments.timeout,
            wait_quiet=arguments.wait_quiet,
        )

    targets = {"size": TARGET_SIZE, "seconds": TARGET_SECONDS, "mb": TARGET_MB}
    report(measure_each("rescore", arguments.databases, arguments.sizes, one, targets))
    return 0


if __name__ == "__main__":
    main_guard("bench.rescore", main)
