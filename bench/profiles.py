"""Rankings under your own weights (issue 16, method §9): the dimension profile served on request,
and a profile with criterion weights computed in the background.

    .venv/bin/python -m bench.profiles [--sizes 1000 100000] [--databases sqlite postgres] [--seconds 10]

For each database and size, on the bench database of that many synthetic projects (built once
and reused, bench/README.md), with its uncertainty run (whose stored dimension values a
dimension profile is ranked from):

1. HTTP, uncached (RESPONSE_CACHE=0; gunicorn with production settings, 2 workers): the bare
   floor and the stack floor, then ``/api/v1/rankings?weights=…&alpha=…`` (a read key) and the
   page ``/en/rankings/custom/?sdg7=…``, each request with random weights (wrk and a Lua script),
   then both floors again. Targets at 100,000 projects: the API's first page of 50 p50 ≤ 150 ms
   and ≥ 0.02× the bare floor of the same run.
2. The basis read once a site generation (cold: the first ranking after a change), in process.
3. A profile with criterion weights computed for every published project
   (``profile_compute``), in its own process under ``/usr/bin/time -v`` with its process tree
   sampled. Targets at 100,000 projects: ≤ 20 s and ≤ 300 MB.

Figures go to stdout and bench/results/profiles-<database>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
from pathlib import Path

from .common import (
    MANAGE,
    MARKER,
    PYTHON,
    BenchError,
    bench_database,
    collect_static,
    django_env,
    django_shell,
    ensure_built,
    log,
    main_guard,
    positive_int,
    quiet_cpu,
    run,
    run_measured,
    size_and_database_arguments,
    table,
    verdict,
    work_dir,
    write_results,
)
from .http import BARE_FLOOR, FIGURES, FLOOR, GUNICORN, ISSUE_KEY, MAKE_OWNER, WRK, Server, wrk

P50_TARGET_MS = 150
OF_FLOOR_TARGET = 0.02
COMPUTE_SECONDS_TARGET = 20
COMPUTE_MB_TARGET = 300
TARGET_SIZE = 100_000

API = "/api/v1/rankings?weights=sdg7:%d,sdg9:%d,sdg12:%d&alpha=0.%d"
PAGE = "/en/rankings/custom/?sdg7=%d&sdg9=%d&sdg12=%d&alpha=0.%d"
LUA = """-- bench/profiles.py: each request with random weights (no two alike, so nothing is reused)
math.randomseed({seed})
request = function()
  return wrk.format(nil, string.format("{pattern}", math.random(0, 10), math.random(1, 10),
    math.random(0, 10), math.random(0, 9)))
end
"""

BASIS = f"""
import json, time
from projects import scoring
from projects.selectors import methodology_current
from projects.services import profiles
from projects.services.scoring import method_spec
began = time.perf_counter()
basis = profiles.ranking_basis()
read = time.perf_counter() - began
spec = method_spec(methodology_current())
profile = scoring.Profile.from_values(spec, dimensions={{"sdg7": 2, "sdg9": 1, "sdg12": 1}}, alpha="0.3")
began = time.perf_counter()
ranking = profiles.ProfileRanking(basis, profile)
page = ranking[0:50]
ranked = time.perf_counter() - began
print({MARKER!r} + json.dumps({{"projects": len(basis.ids), "basis_seconds": read, "ranking_seconds": ranked,
                              "ranked": len(ranking)}}))
"""

COMPUTE = f"""
import json, time
from projects.models import ApiKey, WeightingProfile
from projects.services.saved_profiles import profile_compute
from django.contrib.auth import get_user_model
owner, _ = get_user_model().objects.get_or_create(username="bench", defaults={{"is_staff": True}})
key, _ = ApiKey.issue(name="bench profiles", owner=owner, scope="read")
profile = WeightingProfile.objects.create(
    api_key=key, name="bench", dimensions={{"sdg7": "2", "sdg9": "1", "sdg12": "1"}}, alpha="0.3",
    criteria={{"S7.1": 10, "S9.2": 0, "S12.1": 5, "D1": 3, "E2": 8}},
)
began = time.perf_counter()
ranked = profile_compute(profile.pk)
seconds = time.perf_counter() - began
key.delete()
print({MARKER!r} + json.dumps({{"ranked": ranked, "compute_seconds": seconds}}))
"""


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profiles", description=__doc__.split("\n\n")[0])
    size_and_database_arguments(parser, sizes=[1000, 100_000], databases=["sqlite"], waits_before="each step")
    parser.add_argument("--seconds", type=positive_int, default=10, help="wrk duration per endpoint")
    parser.add_argument("--connections", type=positive_int, default=8, help="wrk connections")
    return parser.parse_args()


def lua(pattern: str, folder: Path) -> Path:
    path = folder / f"weights-{secrets.token_hex(3)}.lua"
    path.write_text(LUA.format(seed=secrets.randbelow(2**31), pattern=pattern), encoding="utf-8")
    return path


def measure_size(kind: str, size: int, arguments: argparse.Namespace, folder: Path) -> dict:
    database = bench_database(kind, size)
    ensure_built(database, size, rebuild=arguments.rebuild)
    collect_static(database)
    figures = django_shell(database, FIGURES, what="the uncertainty figures", timeout=900)
    log(f"{size:,} projects, {kind}: uncertainty figures for {figures['projects']:,} projects")
    run(MAKE_OWNER, env=django_env(database.url), timeout=120, what="the key's owner")
    issued = run(ISSUE_KEY, env=django_env(database.url), timeout=120, what="issue_api_key")
    found = re.search(r"\bsdg_\S+", issued.stdout)
    if found is None:
        raise BenchError(f"issue_api_key printed no key:\n{issued.stdout}{issued.stderr}")
    key = found.group(0)
    measured = {"size": size, "cpu_busy_before": {}}

    measured["cpu_busy_before"]["http"] = quiet_cpu(arguments.wait_quiet)
    endpoints = [
        ("bare floor", BARE_FLOOR.path, True, None, None),
        ("stack floor", FLOOR.path, False, None, None),
        ("api rankings, your weights", API % (2, 1, 1, 3), False, key, lua(API, folder)),
        ("page, your weights", PAGE % (2, 1, 1, 3), False, None, lua(PAGE, folder)),
        ("stack floor (end)", FLOOR.path, False, None, None),
        ("bare floor (end)", BARE_FLOOR.path, True, None, None),
    ]
    runs = []
    log(f"{size:,} projects, {kind}: gunicorn uncached, {len(endpoints)} runs of {arguments.seconds} s")
    with Server(database, "uncached") as server, Server(database, "uncached", bare=True) as bare:
        for name, path, is_bare, key_for, script in endpoints:
            target = bare if is_bare else server
            target.check(path, key_for)
            for _ in range(8):
                target.get(path, key_for)
            runs.append(
                {
                    "endpoint": name,
                    "path": path,
                    "random_weights": script is not None,
                    **wrk(
                        target.url(path),
                        seconds=arguments.seconds,
                        connections=arguments.connections,
                        key=key_for,
                        script=script,
                    ),
                }
            )
    floor = (runs[0]["requests_per_second"] + runs[-1]["requests_per_second"]) / 2
    for figures in runs:
        figures["of_floor"] = figures["requests_per_second"] / floor
    measured["http"] = runs

    measured["cpu_busy_before"]["basis"] = quiet_cpu(arguments.wait_quiet)
    measured["basis"] = django_shell(database, BASIS, what="the basis, cold", timeout=600)

    measured["cpu_busy_before"]["compute"] = quiet_cpu(arguments.wait_quiet)
    done = run_measured(
        [PYTHON, MANAGE, "shell", "-c", COMPUTE],
        env=django_env(database.url),
        timeout=900,
        what=f"a criterion profile over {size:,} projects",
    )
    said = next(
        (
            json.loads(line.removeprefix(MARKER))
            for line in done.stdout.splitlines()
            if line.startswith(MARKER)
        ),
        None,
    )
    if said is None:
        raise BenchError(f"the criterion profile said nothing:\n{done.stdout}{done.stderr}")
    measured["criterion_profile"] = {**said, **done.usage}
    return measured


def verdicts(measured: dict) -> dict:
    """Each target at TARGET_SIZE: met, missed, or None (another size: not judged)."""
    judged = measured["size"] >= TARGET_SIZE
    api = next(run for run in measured["http"] if run["endpoint"].startswith("api"))
    profile = measured["criterion_profile"]
    return {
        "api_p50": api["p50_ms"] <= P50_TARGET_MS if judged else None,
        "api_of_floor": api["of_floor"] >= OF_FLOOR_TARGET if judged else None,
        "compute_seconds": profile["compute_seconds"] <= COMPUTE_SECONDS_TARGET if judged else None,
        "compute_memory": profile["tree_rss_mb"] <= COMPUTE_MB_TARGET if judged else None,
    }


def report(kind: str, sizes: list[dict], arguments: argparse.Namespace) -> None:
    for measured in sizes:
        met = measured["verdicts"]
        print(
            f"\nYour own weights, {kind}, {measured['size']:,} projects "
            f"(uncached; wrk -c{arguments.connections})"
        )
        print(
            table(
                ["endpoint", "req/s", "p50 ms", "p99 ms", "× bare", "", "errors"],
                [
                    [
                        run["endpoint"] + (" (random weights)" if run["random_weights"] else ""),
                        f"{run['requests_per_second']:,.0f}",
                        f"{run['p50_ms']:.2f}",
                        f"{run['p99_ms']:.2f}",
                        f"{run['of_floor']:.3f}",
                        verdict(met["api_of_floor"]) if run["endpoint"].startswith("api") else "",
                        (run["non_2xx"] + run["socket_errors"]) or "",
                    ]
                    for run in measured["http"]
                ],
                left=1,
            )
        )
        api = next(run for run in measured["http"] if run["endpoint"].startswith("api"))
        print(
            f"  API first page of 50: p50 {api['p50_ms']:.1f} ms (target ≤ {P50_TARGET_MS}) "
            f"{verdict(met['api_p50'])}"
        )
        basis = measured["basis"]
        print(
            f"  basis read once a generation: {basis['basis_seconds']:.2f} s for "
            f"{basis['projects']:,} projects; "
            f"a ranking from it: {basis['ranking_seconds'] * 1000:.0f} ms ({basis['ranked']:,} ranked)"
        )
        profile = measured["criterion_profile"]
        print(
            f"  criterion profile: {profile['compute_seconds']:.1f} s for {profile['ranked']:,} ranked "
            f"(target ≤ {COMPUTE_SECONDS_TARGET} s) {verdict(met['compute_seconds'])}; peak memory of the "
            f"process {profile['tree_rss_mb']:.0f} MB (target ≤ {COMPUTE_MB_TARGET}) "
            f"{verdict(met['compute_memory'])}"
        )


def main() -> int:
    arguments = parse_arguments()
    if not Path(WRK).exists() or not Path(GUNICORN).exists():
        raise BenchError(f"{WRK} and {GUNICORN} are needed.")
    folder = work_dir() / f"profiles-{secrets.token_hex(4)}"
    folder.mkdir()
    try:
        for kind in arguments.databases:
            sizes = []
            for size in sorted(arguments.sizes):
                measured = measure_size(kind, size, arguments, folder)
                measured["verdicts"] = verdicts(measured)
                sizes.append(measured)
            path = write_results(
                "profiles",
                kind,
                {
                    "seconds": arguments.seconds,
                    "connections": arguments.connections,
                    "targets": {
                        "api_p50_ms": P50_TARGET_MS,
                        "api_of_bare_floor": OF_FLOOR_TARGET,
                        "criterion_profile_seconds": COMPUTE_SECONDS_TARGET,
                        "criterion_profile_mb": COMPUTE_MB_TARGET,
                        "judged_at": TARGET_SIZE,
                    },
                    "sizes": sizes,
                },
            )
            log(f"wrote {path}")
            report(kind, sizes, arguments)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    main_guard("bench.profiles", main)
