"""A webhook endpoint on loopback for the tests, and the webhook tasks run as a worker would.

The endpoint: it records every request and answers as the
test says (``server.behaviour``: "ok", "fail" (500), "slow", "redirect", "large", "empty", or a
callable of the request count giving one of them)."""

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db.models import Q
from django.utils import timezone

WEBHOOK_TASKS = ("projects.tasks.webhook_fanout", "projects.tasks.webhook_send")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        server = self.server
        length = int(self.headers.get("Content-Length", 0))
        with server.lock:
            server.received.append((self.path, dict(self.headers), self.rfile.read(length)))
            count = len(server.received)
        behaviour = server.behaviour(count) if callable(server.behaviour) else server.behaviour
        if behaviour == "slow":
            time.sleep(2)
        if behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.end_headers()
            return
        status = {"fail": 500, "empty": 204}.get(behaviour, 200)
        body = b"x" * (200 * 1024) if behaviour == "large" else b"" if status == 204 else b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up on a slow answer: expected, not worth a traceback


@pytest.fixture
def receiver():
    server = QuietServer(("127.0.0.1", 0), Receiver)
    server.received, server.behaviour, server.lock = [], "ok", threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server, path="/hook?x=1"):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def run_tasks(later: timedelta = timedelta(0)) -> list[dict]:
    """What the workers would do: every webhook task due within ``later``, until none is left
    (each run once, in queue order); their results."""
    from django_tasks.base import TaskContext
    from django_tasks_db.models import DBTaskResult, get_date_max

    results = []
    while True:
        due = (
            DBTaskResult.objects.filter(status="READY", task_path__in=WEBHOOK_TASKS)
            .filter(Q(run_after=get_date_max()) | Q(run_after__lte=timezone.now() + later))
            .order_by("run_after", "enqueued_at")
            .first()
        )
        if due is None:
            return results
        DBTaskResult.objects.filter(pk=due.pk).update(status="SUCCESSFUL")
        arguments = due.args_kwargs
        context = (TaskContext(task_result=due.task_result),) if due.task.takes_context else ()
        results.append(due.task.call(*context, *arguments["args"], **arguments["kwargs"]))
