"""What the work that task workers lease has in common (a method release's rescoring chunks, an
uncertainty run): a heartbeat while it runs, and the task record of a worker found dead."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from django.db import DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """Recorded on the task of work whose worker stopped without finishing it."""


class Heartbeat:
    """While leased work runs, a thread calls ``beat`` four times a lease (``lease``: seconds),
    on its own database connection: the work may take longer than a lease, and only a dead
    worker stops beating. ``beat`` returns False once the work is no longer this worker's."""

    def __init__(self, beat: Callable[[], bool], *, lease: Callable[[], float], name: str) -> None:
        self.beat, self.lease, self.name = beat, lease, name
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"{name}-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        try:
            while not self.stopped.wait(self.lease() / 4):
                try:
                    if not self.beat():
                        return
                except DatabaseError:  # the next beat may get through; the lease allows three misses
                    logger.warning("%s: heartbeat failed", self.name, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections


def database_task_results():
    """django-tasks-db's task records, when the default backend keeps them (else None)."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult


def tasks_lost(task_ids: Iterable, why: str) -> None:
    """Mark these tasks failed with WorkerLost where they still show "running": a dead worker's
    task would show it for ever in the task database. ``why`` ends up as its traceback."""
    tasks = database_task_results()
    ids = list(task_ids)
    if tasks is None or not ids:
        return
    tasks.objects.filter(pk__in=ids, status="RUNNING").update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=f"WorkerLost: {why}\n",
    )
