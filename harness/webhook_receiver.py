"""A webhook endpoint on loopback for the proofs and benchmarks: it records every request and
answers each as chance decides: 200, a 500, an answer later than the sender waits ("slow"), or a
connection dropped without an answer ("drop")."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import HOST


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float  # time.time()
    answer: str  # ok, fail, slow, drop


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's name)
        receiver: Receiver = self.server.receiver
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        answer = receiver.choose()
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver.record(Request(self.path, headers, body, time.time(), answer))
        if answer == "drop":
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if answer == "slow":
            time.sleep(receiver.slow_seconds)
        status = 500 if answer == "fail" else 200
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a sender that gave up on a slow answer, or a dropped connection: by design


class Receiver:
    """``failures``: the chance of each failing answer ("fail", "slow", "drop"); the rest are 200."""

    def __init__(self, *, failures: dict[str, float] | None = None, seed: int = 0, slow_seconds: float = 11):
        self.failures = failures or {}
        self.slow_seconds = slow_seconds
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.draw = random.Random(seed)  # noqa: S311 (which answers fail, not a secret)
        self.server = _Server((HOST, 0), _Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 1024
        self.server.receiver = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}{path}"

    def choose(self) -> str:
        with self.lock:
            roll = self.draw.random()
        for answer, chance in self.failures.items():
            if roll < chance:
                return answer
            roll -= chance
        return "ok"

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def answers(self) -> Counter:
        with self.lock:
            return Counter(request.answer for request in self.requests)

    def delivered(self) -> list[Request]:
        """The requests answered 200 (the sender saw a success)."""
        with self.lock:
            return [request for request in self.requests if request.answer == "ok"]
