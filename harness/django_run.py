"""A throwaway copy of the service for a proof or a benchmark: a PostgreSQL database of its own
(created, migrated, dropped at the end), ``manage.py`` commands run against it, and task workers
(``manage.py db_worker``) that can be started and SIGKILLed.

    with DjangoRun("webhooks", postgres=url, settings={"WEBHOOK_LEASE": "12"}) as run:
        run.manage("shell", "-c", script)
        run.start_worker()
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import drop_postgres_database, stop_processes, with_database

ROOT = Path(__file__).resolve().parents[1]


class DjangoRun:
    def __init__(self, name: str, *, postgres: str, settings: dict[str, str] | None = None) -> None:
        self.name = f"sdgscore_{name}_{os.getpid()}"
        self.postgres = postgres
        self.database_url = with_database(postgres, self.name)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"sdgscore-{name}-"))
        self.workers: dict[int, subprocess.Popen] = {}
        self.started_workers = 0
        self.created = False
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}},
            "DJANGO_SETTINGS_MODULE": "sdgscore.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": self.database_url,
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "PYTHONUNBUFFERED": "1",
            **(settings or {}),
        }

    def __enter__(self) -> DjangoRun:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            with_database(self.postgres, "postgres"), autocommit=True, connect_timeout=10
        ) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.created = True
        self.manage("migrate", "--noinput", "-v0")
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop_workers()
        finally:
            try:
                if self.created:
                    drop_postgres_database(self.postgres, self.name)
            finally:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def manage(self, *arguments: str, timeout: float = 600) -> str:
        """``manage.py arguments`` against this copy; its output (RuntimeError when it fails)."""
        result = subprocess.run(  # noqa: S603 (this checkout's manage.py, our own arguments)
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {arguments[0]} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self, *arguments: str, log: str) -> subprocess.Popen:
        """``manage.py arguments`` in the background, its output in ``log`` (in the work folder)."""
        with open(self.workdir / log, "wb") as output:
            return subprocess.Popen(  # noqa: S603 (this checkout's manage.py, our own arguments)
                [sys.executable, "manage.py", *arguments],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self) -> tuple[int, str]:
        """A task worker: its pid and its worker id (as the task database records it)."""
        self.started_workers += 1
        worker_id = f"proof-{self.started_workers}"
        process = self.start(
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.1",
            "--worker-id",
            worker_id,
            log=f"worker-{self.started_workers}.log",
        )
        self.workers[process.pid] = process
        return process.pid, worker_id

    def live_workers(self) -> list[int]:
        return [pid for pid, process in self.workers.items() if process.poll() is None]

    def stop_workers(self) -> None:
        stop_processes(self.workers.values(), grace=15)

    def worker_logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.workdir.glob("worker-*.log"))
        )
