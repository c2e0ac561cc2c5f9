"""What the benchmarks (bench/) and the proofs (proof/) share: loopback ports, database URLs and
PostgreSQL databases of their own, and the processes they start, read from /proc.

Neither the service nor its tests need it; the Docker image does not ship it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from urllib.parse import urlsplit, urlunsplit

HOST = "127.0.0.1"  # the benchmarks and proofs talk to nothing else


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def with_database(url: str, name: str) -> str:
    """The database URL with its database name replaced."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def drop_postgres_database(url: str, name: str) -> None:
    """Drop database ``name`` of the server at ``url`` (connections to it ended first)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(with_database(url, "postgres"), autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def read_proc(path: str) -> str:
    """A /proc file's text ("" when the process ended meanwhile)."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def parse_stat(text: str) -> tuple[str, int] | None:
    """(state, parent pid) from the text of /proc/PID/stat (the name may hold spaces and ')')."""
    close = text.rfind(")")
    fields = text[close + 2 :].split() if close >= 0 else []
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    return fields[0], int(fields[1])


def children(ppid: int) -> list[int]:
    """The live (not zombie) child processes of ``ppid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parsed = parse_stat(read_proc(f"/proc/{entry}/stat"))
            if parsed and parsed[1] == ppid and parsed[0] not in {"Z", "X"}:
                found.append(int(entry))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc/<pid>/task/<tid>/children)."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            for child in read_proc(f"/proc/{parent}/task/{task}/children").split():
                found.append(int(child))
                pending.append(int(child))
    return found


def stop_processes(processes, *, grace: float, kill_group: bool = False) -> None:
    """Ask each running process to stop (SIGTERM), wait up to ``grace`` seconds for each, then
    SIGKILL those still running (their whole process group with ``kill_group``)."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                if kill_group:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
            process.wait(timeout=10)
