"""SQL queries per request: each API list and public page, by page size, cached and uncached.

    .venv/bin/python -m bench.queries [--sizes 10 200] [--projects 300]

On a copy of the SQLite bench database of ``--projects`` synthetic projects (built once and
reused, see bench/README.md), two Django processes with production settings (DEBUG off) send
requests through the test client — no server — and count the SQL queries each one makes
(django.test.utils.CaptureQueriesContext):

- ``uncached``: with RESPONSE_CACHE=0 (no server-side response/page cache), the first request;
- ``cached``: with the cache on, the same request a second time (``cold``: its first time).

Paged endpoints are asked for at each page size; an endpoint whose count grows with the page
size (an N+1 query) is flagged. API requests carry a read-scope key. Figures go to stdout and
bench/results/queries-sqlite.json.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from .common import (
    MARKER,
    PYTHON,
    BenchError,
    bench_database,
    collect_static,
    django_env,
    ensure_built,
    log,
    main_guard,
    positive_int,
    run,
    table,
    tail,
    write_results,
)

MODES = ("uncached", "cached")
WARM_UP = ("/en/methodology/", "/api/v1/methodologies")  # first-use costs of a fresh process


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # {size}: the page size; {slug}, {other}: two published projects

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def paged(self) -> bool:
        return "{size}" in self.path


ENDPOINTS = (
    Endpoint("api projects", "/api/v1/projects?page_size={size}"),
    Endpoint("api rankings", "/api/v1/rankings?page_size={size}"),
    Endpoint("api sync", "/api/v1/sync/projects?page_size={size}"),
    Endpoint("api operators", "/api/v1/operators?page_size={size}"),
    Endpoint("api score history", "/api/v1/projects/{slug}/scores?page_size={size}"),
    Endpoint("api assessments", "/api/v1/projects/{slug}/assessments"),
    Endpoint("api project", "/api/v1/projects/{slug}"),
    Endpoint("home page", "/en/"),
    Endpoint("project page", "/en/projects/{slug}/"),
    Endpoint("operators page", "/en/operators/"),
    Endpoint("compare page", "/en/compare/?p={slug}&p={other}"),
)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.queries", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[10, 200], metavar="PAGE_SIZE")
    parser.add_argument("--projects", type=positive_int, default=300, help="synthetic projects (300)")
    parser.add_argument("--rebuild", action="store_true", help="build the bench database afresh")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)  # the measuring process
    return parser.parse_args()


# ---------------------------------------------------------------------------------------------
# The measuring process (Django set up from the environment the parent gives it)


def child(sizes: list[int]) -> list[dict]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from projects.models import ApiKey, Project

    owner, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    _, key = ApiKey.issue(owner=owner, name="bench queries", scope="read", throttle_rate="1000000/second")
    slugs = list(Project.objects.published().order_by("slug").values_list("slug", flat=True)[:2])
    if len(slugs) < 2:
        raise BenchError("the bench database needs two published projects at least.")
    client = Client()
    api_headers = {"authorization": f"Bearer {key}"}
    for path in WARM_UP:
        client.get(path, headers=api_headers if path.startswith("/api/") else {})
    measured = []
    for endpoint in ENDPOINTS:
        for size in sizes if endpoint.paged else [None]:
            path = endpoint.path.format(size=size, slug=slugs[0], other=slugs[1])
            row = {"endpoint": endpoint.name, "page_size": size, "path": path, "counts": []}
            for _ in range(2):
                with CaptureQueriesContext(connection) as queries:
                    try:
                        response = client.get(path, headers=api_headers if endpoint.api else {})
                    except Exception as exc:  # noqa: BLE001 -- recorded and shown, the rest still measured
                        row["error"] = f"{type(exc).__name__}: {exc}"
                        break
                row["counts"].append(len(queries))
                row["status"] = response.status_code
                if response.status_code != 200:
                    row["error"] = f"answered {response.status_code}"
                    break
                if endpoint.api:
                    row["items"] = _items(json.loads(response.content))
            measured.append(row)
    return measured


def _items(document) -> int | None:
    if isinstance(document, list):
        return len(document)
    if isinstance(document, dict) and isinstance(document.get("results"), list):
        return len(document["results"])
    return None


# ---------------------------------------------------------------------------------------------
# The parent


def measure(sizes: list[int], projects: int, *, rebuild: bool) -> list[dict]:
    base = bench_database("sqlite", projects)
    ensure_built(base, projects, rebuild=rebuild)
    collect_static(base)
    work = bench_database("sqlite", projects, "queries")
    by_mode = {}
    try:
        work.copy_from(base)
        for mode in MODES:
            log(f"counting queries, {mode}")
            env = django_env(work.url, ALLOWED_HOSTS="testserver")
            if mode == "uncached":
                env["RESPONSE_CACHE"] = "0"
            command = [PYTHON, "-m", "bench.queries", "--child", mode, "--sizes", *map(str, sizes)]
            done = run(command, env=env, timeout=600, what=f"the {mode} query count")
            answer = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
            if not answer:
                raise BenchError(f"the {mode} query count said nothing:\n{tail(done.stdout + done.stderr)}")
            by_mode[mode] = json.loads(answer[-1].removeprefix(MARKER))
    finally:
        work.drop()
    return combine(by_mode["uncached"], by_mode["cached"])


def combine(uncached_rows: list[dict], cached_rows: list[dict]) -> list[dict]:
    """One row per endpoint and page size from the two processes' counts, growth flagged."""
    rows = []
    for uncached, cached in zip(uncached_rows, cached_rows, strict=True):
        rows.append(
            {
                "endpoint": uncached["endpoint"],
                "page_size": uncached["page_size"],
                "path": uncached["path"],
                "items": uncached.get("items"),
                "uncached": _nth(uncached, 0),
                "uncached_repeat": _nth(uncached, 1),
                "cold": _nth(cached, 0),
                "cached": _nth(cached, 1),
                "errors": [
                    f"{mode}: {row['error']}"
                    for mode, row in (("uncached", uncached), ("cached", cached))
                    if "error" in row
                ],
            }
        )
    for name in {row["endpoint"] for row in rows}:
        same = sorted((row for row in rows if row["endpoint"] == name), key=lambda row: row["page_size"] or 0)
        if len(same) < 2:
            continue
        first, last = same[0], same[-1]
        grows = [mode for mode in ("uncached", "cached") if (last[mode] or 0) > (first[mode] or 0)]
        for row in same:
            row["grows_with_page_size"] = bool(grows)
            row["grows_in"] = grows
            row["same_items"] = first["items"] == last["items"]
    return rows


def _nth(row: dict, index: int) -> int | None:
    return row["counts"][index] if len(row["counts"]) > index else None


def report(rows: list[dict], projects: int) -> None:
    print(
        f"\nSQL queries per request ({projects} synthetic projects, SQLite, DEBUG off, "
        "a read-scope key for /api/)"
    )

    def flag(row: dict) -> str:
        if "grows_with_page_size" not in row:
            return ""
        if row["grows_with_page_size"]:
            return f"GROWS with page size ({', '.join(row['grows_in'])})"
        return "inconclusive: as many items at each size" if row["same_items"] else "flat"

    print(
        table(
            ["endpoint", "page size", "items", "uncached", "cached", "cold", "flag"],
            [
                [
                    row["endpoint"],
                    row["page_size"] or "",
                    "" if row["items"] is None else row["items"],
                    row["uncached"],
                    row["cached"],
                    row["cold"],
                    "; ".join(filter(None, [flag(row), *row["errors"]])),
                ]
                for row in rows
            ],
            align="lrrrrrl",
        )
    )
    print(
        "uncached: RESPONSE_CACHE=0, first request; cached: cache on, the same request again;\n"
        "cold: cache on, its first time. items: entries in the answer (API)."
    )
    leaks = [row["endpoint"] for row in rows if (row["uncached_repeat"] or 0) < (row["uncached"] or 0)]
    if leaks:
        print(f"note: with RESPONSE_CACHE=0 a repeated request still made fewer queries: {', '.join(leaks)}")
    grows = sorted({row["endpoint"] for row in rows if row.get("grows_with_page_size")})
    print(f"grows with page size: {', '.join(grows) if grows else 'none'}")
    errors = [row for row in rows if row["errors"]]
    if errors:
        print(f"errors: {len(errors)} of these did not answer 200 (see the flag column)")


def main() -> int:
    arguments = parse_arguments()
    sizes = sorted(set(arguments.sizes))
    if arguments.child:
        print(MARKER + json.dumps(child(sizes)))
        return 0
    rows = measure(sizes, arguments.projects, rebuild=arguments.rebuild)
    path = write_results(
        "queries", "sqlite", {"projects": arguments.projects, "page_sizes": sizes, "rows": rows}
    )
    log(f"wrote {path}")
    report(rows, arguments.projects)
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    main_guard("bench.queries", main)
