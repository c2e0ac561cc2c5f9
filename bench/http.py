"""HTTP throughput and latency of the API and the public pages, against a bare Django floor.

    .venv/bin/python -m bench.http [--sizes 1000 100000] [--databases sqlite] [--seconds 10] [--connections 8]

For each database and size: the bench database of that many synthetic projects (built once and
reused, see bench/README.md), static files collected, a read key issued, then gunicorn with
production settings (2 workers, 127.0.0.1 only) is loaded with wrk, endpoint after endpoint:

- ``cached``: the same URL over and over, after warm-up requests (the server-side caches full);
- ``uncached``: a second server with RESPONSE_CACHE=0 (no server-side response/page cache), the
  detail and page endpoints on a random one of 500 sampled projects per request.

Each server run starts and ends with two floors: the bare floor, a constant view of a bare
Django site (bench/floor: what ``startproject`` gives, served by its own gunicorn with the same
options), and the stack floor, the same constant view behind this project's whole middleware
stack (BENCH_FLOOR=1). Every endpoint is given as a fraction of the bare floor of its own run
(the mean of the two readings), the targets' measure, and of the stack floor, for reference.
Figures go to stdout and bench/results/http-<database>.json.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from harness import free_port

from .common import (
    MANAGE,
    MARKER,
    PYTHON,
    BenchDatabase,
    BenchError,
    bench_database,
    busy_note,
    collect_static,
    django_env,
    django_shell,
    ensure_built,
    log,
    main_guard,
    positive_int,
    quiet_cpu,
    run,
    size_and_database_arguments,
    spawn,
    stop,
    table,
    tail,
    verdict,
    work_dir,
    write_results,
)

WRK = "/usr/bin/wrk"
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
HOST = "127.0.0.1"
SAMPLED = 500  # projects the uncached detail and page requests pick from
WORKERS = 2
GUNICORN_OPTIONS = ("--log-level", "warning")  # no access log, as with gunicorn's defaults
WARM_UP = 8  # requests per URL before measuring it (so both workers have it cached, when cached)
CHECKED = 5  # sampled projects whose detail and page must answer 200 before measuring
MODES = ("cached", "uncached")


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # with {slug} where one project is asked for
    api: bool = False
    bare: bool = False  # served by the bare Django site (bench/floor), not by sdgscore

    @property
    def per_project(self) -> bool:
        return "{slug}" in self.path


BARE_FLOOR = Endpoint("bare floor", "/bench/floor", bare=True)
FLOOR = Endpoint("stack floor", "/bench/floor")
# Both floors again once the others are measured: the mean brackets them and shows drift.
CLOSING = (
    Endpoint("stack floor (end)", FLOOR.path),
    Endpoint("bare floor (end)", BARE_FLOOR.path, bare=True),
)
ENDPOINTS = (
    BARE_FLOOR,
    FLOOR,
    Endpoint("api detail", "/api/v1/projects/{slug}", api=True),
    Endpoint("api list", "/api/v1/projects?page_size=50&target_body=moon", api=True),
    Endpoint("project page", "/en/projects/{slug}/"),
    Endpoint("home page", "/en/"),
)
# Least requests/s as a fraction of the bare floor of the same run, by database and (mode, endpoint).
TARGETS = {
    "sqlite": {
        ("cached", "api detail"): 0.8,
        ("cached", "project page"): 0.8,
        ("uncached", "api detail"): 0.3,
        ("uncached", "api list"): 0.15,
        ("uncached", "project page"): 0.05,
        ("uncached", "home page"): 0.04,
    },
    "postgres": {
        ("cached", "api detail"): 0.7,
        ("cached", "project page"): 0.7,
        ("uncached", "api detail"): 0.25,
        ("uncached", "api list"): 0.12,
        ("uncached", "project page"): 0.05,
        ("uncached", "home page"): 0.04,
    },
}
FLOOR_DRIFT = 0.15  # the two readings of a floor in one server run differing more than this: noisy
LATENCY_TARGET = 1.3  # most p50 and p99 at the largest size, as a multiple of the smallest size's

MAKE_OWNER = [
    PYTHON,
    MANAGE,
    "shell",
    "-c",
    "from django.contrib.auth import get_user_model; "
    "get_user_model().objects.get_or_create(username='bench', defaults={'is_staff': True})",
]
ISSUE_KEY = [
    *[PYTHON, MANAGE, "issue_api_key", "bench", "--owner", "bench"],
    *["--scope", "read", "--rate", "1000000/second"],
]
SAMPLE_SLUGS = f"""
import json, random
from projects.models import Project
slugs = sorted(Project.objects.published().values_list("slug", flat=True))
print({MARKER!r} + json.dumps(random.Random(2026).sample(slugs, min({SAMPLED}, len(slugs)))))
"""
LUA = """-- bench/http.py: each request asks for one of the sampled projects, at random
local slugs = {{{slugs}}}
local pattern = "{pattern}"
math.randomseed({seed})
request = function()
  return wrk.format(nil, string.format(pattern, slugs[math.random(#slugs)]))
end
"""


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.split("\n\n")[0])
    size_and_database_arguments(
        parser, sizes=[1000, 100_000], databases=["sqlite"], waits_before="each server run"
    )
    parser.add_argument("--seconds", type=positive_int, default=10, help="wrk duration per endpoint")
    parser.add_argument("--connections", type=positive_int, default=8, help="wrk connections")
    return parser.parse_args()


# ---------------------------------------------------------------------------------------------
# wrk


def parse_wrk(output: str) -> dict:
    """Requests/s, latency percentiles (ms) and errors from ``wrk --latency`` output."""
    rate = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(\w+)", output, re.MULTILINE)
    if rate is None or total is None:
        raise BenchError(f"wrk's output was not understood:\n{output}")
    latency = {
        f"p{percent}_ms": _milliseconds(value, unit)
        for percent, value, unit in re.findall(
            r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M
        )
    }
    if "p50_ms" not in latency or "p99_ms" not in latency:
        raise BenchError(f"wrk gave no latency distribution:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests_per_second": float(rate.group(1)),
        "requests": int(total.group(1)),
        **latency,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(count) for count in sockets.groups()) if sockets else 0,
    }


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}[unit]


def wrk(url: str, *, seconds: int, connections: int, key: str | None, script: Path | None) -> dict:
    command = [WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    if script:
        command += ["-s", str(script)]
    done = run([*command, url], env={"PATH": "/usr/bin:/bin"}, timeout=seconds + 60, what="wrk")
    return parse_wrk(done.stdout)


def lua_script(endpoint: Endpoint, slugs: list[str], folder: Path) -> Path:
    path = folder / f"random-{endpoint.name.replace(' ', '-')}.lua"
    pattern = endpoint.path.replace("{slug}", "%s")
    path.write_text(
        LUA.format(
            slugs=", ".join(f'"{slug}"' for slug in slugs), pattern=pattern, seed=secrets.randbelow(2**31)
        ),
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    """gunicorn with production settings on a free loopback port; stopped when the block ends.

    sdgscore itself, or with ``bare=True`` the bare Django site of bench/floor, with the same
    gunicorn options and environment (its settings module aside).
    """

    def __init__(self, database: BenchDatabase, mode: str, *, bare: bool = False):
        self.port = free_port()
        self.application = "bench.floor.wsgi" if bare else "sdgscore.wsgi"
        self.log_path = work_dir() / f"gunicorn-{'bare' if bare else mode}-{self.port}.log"
        env = django_env(database.url, ALLOWED_HOSTS=HOST, BENCH_FLOOR="1")
        if mode == "uncached":
            env["RESPONSE_CACHE"] = "0"
        if bare:
            env["DJANGO_SETTINGS_MODULE"] = "bench.floor.settings"
        self.env, self.process, self.starting = env, None, True

    def __enter__(self) -> Server:
        command = [
            GUNICORN,
            self.application,
            "-w",
            str(WORKERS),
            "-b",
            f"{HOST}:{self.port}",
            *GUNICORN_OPTIONS,
        ]
        with open(self.log_path, "wb") as output:
            self.process = spawn(command, env=self.env, stdout=output, stderr=output)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn stopped at start-up:\n{self.log()}")
            try:
                if self.get(FLOOR.path)[0] == 200:
                    self.starting = False
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer {FLOOR.path} with 200 within 60 s:\n{self.log()}")

    def __exit__(self, kind, error, traceback) -> None:
        if self.process is not None:
            stop(self.process)
        if error is None:
            self.log_path.unlink(missing_ok=True)
        else:
            log(f"gunicorn's log is kept in {self.log_path}")

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def get(self, path: str, key: str | None = None) -> tuple[int, bytes]:
        """One GET on a new connection, redirects not followed."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {key}"} if key else {})
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as exc:
            if self.process is None or self.starting:
                raise
            state = "running" if self.process.poll() is None else f"exited ({self.process.returncode})"
            raise BenchError(f"GET {path}: {exc}; gunicorn {state}:\n{self.log()}") from None
        finally:
            connection.close()

    def log(self) -> str:
        return (
            tail(self.log_path.read_text(encoding="utf-8", errors="replace"))
            if self.log_path.exists()
            else ""
        )

    def check(self, path: str, key: str | None) -> None:
        status, body = self.get(path, key)
        if status != 200:
            raise BenchError(
                f"GET {path} answered {status}, not 200: nothing measured.\n"
                f"{body[:600].decode('utf-8', 'replace')}\n{self.log()}"
            )


# ---------------------------------------------------------------------------------------------
# Measuring


FIGURES = f"""
import json
from django.core.management import call_command
from projects.services.uncertainty import current_run
computed = current_run() is None
if computed:
    call_command("uncertainty", "--no-progress")
print({MARKER!r} + json.dumps({{"computed": computed, "projects": current_run().projects}}))
"""


def measure_size(kind: str, size: int, arguments: argparse.Namespace, folder: Path) -> dict:
    """Both server runs at one size: cached, then uncached."""
    database = bench_database(kind, size)
    built = ensure_built(database, size, rebuild=arguments.rebuild)
    collect_static(database)
    # The project page and API detail show a run's figures (method §8, §10): computed once here,
    # kept in the database (a later publication would queue the next run).
    figures = django_shell(database, FIGURES, what="the uncertainty figures", timeout=900)
    if figures["computed"]:
        log(f"{size:,} projects, {kind}: uncertainty figures computed for {figures['projects']:,} projects")
    run(MAKE_OWNER, env=django_env(database.url), timeout=120, what="the key's owner")
    issued = run(ISSUE_KEY, env=django_env(database.url), timeout=120, what="issue_api_key")
    found = re.search(r"\bsdg_\S+", issued.stdout)
    if found is None:
        raise BenchError(f"issue_api_key printed no key:\n{issued.stdout}{issued.stderr}")
    slugs = django_shell(database, SAMPLE_SLUGS, what="sampling projects")
    if not slugs:
        raise BenchError(f"{database} has no published project.")
    scripts = {e.name: lua_script(e, slugs, folder) for e in ENDPOINTS if e.per_project}
    measured = {"size": size, "database_reused": built == "reused", "cpu_busy_before": {}, "runs": []}
    for mode in MODES:
        measured["cpu_busy_before"][mode] = quiet_cpu(arguments.wait_quiet)
        runs = len(ENDPOINTS) + len(CLOSING)
        log(f"{size:,} projects, {kind}: gunicorn {mode}, {runs} runs of {arguments.seconds} s")
        with Server(database, mode) as server, Server(database, mode, bare=True) as bare:
            runs = measure_server(
                {False: server, True: bare},
                mode,
                key=found.group(0),
                slugs=slugs,
                scripts=scripts,
                targets=TARGETS[kind],
                arguments=arguments,
            )
        measured["runs"] += [{"size": size, **figures} for figures in runs]
    return measured


def measure_server(
    servers: dict[bool, Server],
    mode: str,
    *,
    key: str,
    slugs: list[str],
    scripts: dict,
    targets: dict,
    arguments: argparse.Namespace,
) -> list[dict]:
    """Both floors, each endpoint, both floors again; each endpoint as a fraction of each floor
    (the mean of its two readings, which bracket the others and show drift)."""
    for endpoint in ENDPOINTS:  # every URL answers 200 before anything is measured
        for slug in [slugs[0]] + random.sample(slugs, min(CHECKED, len(slugs))):  # noqa: S311
            servers[endpoint.bare].check(endpoint.path.format(slug=slug), key if endpoint.api else None)
            if not endpoint.per_project:
                break
    runs = []
    for endpoint in (*ENDPOINTS, *CLOSING):
        server = servers[endpoint.bare]
        key_for = key if endpoint.api else None
        randomised = mode == "uncached" and endpoint.per_project
        path = endpoint.path.format(slug=slugs[0])
        for _ in range(WARM_UP):
            server.get(path, key_for)
        figures = wrk(
            server.url(path),
            seconds=arguments.seconds,
            connections=arguments.connections,
            key=key_for,
            script=scripts[endpoint.name] if randomised else None,
        )
        runs.append(
            {
                "mode": mode,
                "endpoint": endpoint.name,
                "path": endpoint.path if randomised else path,
                "random_project": randomised,
                **figures,
            }
        )
    bare_first, bare_last = runs[0]["requests_per_second"], runs[-1]["requests_per_second"]
    stack_first, stack_last = runs[1]["requests_per_second"], runs[-2]["requests_per_second"]
    bare_floor, stack_floor = (bare_first + bare_last) / 2, (stack_first + stack_last) / 2
    for figures in runs:
        figures["of_floor"] = figures["requests_per_second"] / bare_floor
        figures["of_stack_floor"] = figures["requests_per_second"] / stack_floor
        figures["floor_drift"] = bare_last / bare_first - 1
        figures["stack_floor_drift"] = stack_last / stack_first - 1
        target = targets.get((mode, figures["endpoint"]))
        figures["target_of_floor"] = target
        figures["meets_target"] = None if target is None else figures["of_floor"] >= target
    return runs


def scaling(sizes: list[dict]) -> list[dict]:
    """p50 and p99 at the largest size over those at the smallest, per mode and endpoint."""
    if len(sizes) < 2:
        return []
    small, large = min(sizes, key=lambda s: s["size"]), max(sizes, key=lambda s: s["size"])
    rows = []
    for before in small["runs"]:
        after = next(
            r for r in large["runs"] if (r["mode"], r["endpoint"]) == (before["mode"], before["endpoint"])
        )
        p50 = after["p50_ms"] / max(before["p50_ms"], 0.001)
        p99 = after["p99_ms"] / max(before["p99_ms"], 0.001)
        rows.append(
            {
                "mode": before["mode"],
                "endpoint": before["endpoint"],
                "sizes": [small["size"], large["size"]],
                "p50_ratio": p50,
                "p99_ratio": p99,
                "target": LATENCY_TARGET,
                "meets_target": p50 <= LATENCY_TARGET and p99 <= LATENCY_TARGET,
            }
        )
    return rows


def report(kind: str, sizes: list[dict], ratios: list[dict], arguments: argparse.Namespace) -> None:
    for measured in sizes:
        print(
            f"\nHTTP, {kind}, {measured['size']:,} projects: gunicorn -w {WORKERS}, "
            f"wrk -t1 -c{arguments.connections} -d{arguments.seconds}s"
        )
        print(
            table(
                [
                    *["mode", "endpoint", "req/s", "p50 ms", "p99 ms"],
                    *["× bare", "target", "", "× stack", "errors"],
                ],
                [
                    [
                        run["mode"],
                        run["endpoint"] + (" (random)" if run["random_project"] else ""),
                        f"{run['requests_per_second']:,.0f}",
                        f"{run['p50_ms']:.2f}",
                        f"{run['p99_ms']:.2f}",
                        f"{run['of_floor']:.2f}",
                        f"≥ {run['target_of_floor']}" if run["target_of_floor"] else None,
                        verdict(run["meets_target"]),
                        f"{run['of_stack_floor']:.2f}",
                        (run["non_2xx"] + run["socket_errors"]) or "",
                    ]
                    for run in measured["runs"]
                ],
                left=2,
            )
        )
        for mode, busy in measured["cpu_busy_before"].items():
            if note := busy_note(busy):
                print(f"  {mode}: {note}")
            first = next(run for run in measured["runs"] if run["mode"] == mode)
            for name, drift in (("bare", first["floor_drift"]), ("stack", first["stack_floor_drift"])):
                if abs(drift) > FLOOR_DRIFT:
                    print(f"  {mode}: the {name} floor moved by {drift:+.0%} during the run: noisy figures")
        failed = [run for run in measured["runs"] if run["non_2xx"] or run["socket_errors"]]
        if failed:
            print("  errors: answers not 2xx/3xx, or socket errors, during the run — see the JSON.")
    if ratios:
        small, large = ratios[0]["sizes"]
        print(f"\nLatency at {large:,} projects ÷ at {small:,} ({kind}); target ≤ {LATENCY_TARGET}")
        print(
            table(
                ["mode", "endpoint", "p50 ratio", "p99 ratio", ""],
                [
                    [row["mode"], row["endpoint"], f"{row['p50_ratio']:.2f}", f"{row['p99_ratio']:.2f}"]
                    + [verdict(row["meets_target"])]
                    for row in ratios
                ],
                left=2,
            )
        )


def main() -> int:
    arguments = parse_arguments()
    if not Path(WRK).exists() or not Path(GUNICORN).exists():
        raise BenchError(f"{WRK} and {GUNICORN} are needed.")
    folder = work_dir() / f"http-{secrets.token_hex(4)}"
    folder.mkdir()
    try:
        for kind in arguments.databases:
            sizes = [measure_size(kind, size, arguments, folder) for size in sorted(arguments.sizes)]
            ratios = scaling(sizes)
            path = write_results(
                "http",
                kind,
                {
                    "seconds": arguments.seconds,
                    "connections": arguments.connections,
                    "targets": {
                        "floor": "bare Django (bench/floor), same gunicorn options, same run",
                        "of_floor": {
                            f"{mode} {endpoint}": value for (mode, endpoint), value in TARGETS[kind].items()
                        },
                        "latency_ratio": LATENCY_TARGET,
                    },
                    "sizes": sizes,
                    "latency_scaling": ratios,
                },
            )
            log(f"wrote {path}")
            report(kind, sizes, ratios, arguments)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    main_guard("bench.http", main)
