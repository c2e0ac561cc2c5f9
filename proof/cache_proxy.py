"""A TCP relay on loopback that the load proof cuts, so that Redis becomes unreachable mid-run.

The server under load is given REDIS_URL pointing at this relay, which forwards to the real Redis.
``cut()`` drops every relayed connection and then, for new ones, either refuses them at once
("refuse") or accepts and never answers ("blackhole", what a hung or partitioned Redis looks
like); ``restore()`` forwards again. Nothing else on the machine is touched.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading

FORWARD, REFUSE, BLACKHOLE = "forward", "refuse", "blackhole"


class CacheProxy:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.target = target
        self.listener = socket.create_server((host, 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.mode = FORWARD
        self.accepted = 0
        self.dropped = 0
        self._open: set[socket.socket] = set()  # relayed connections, both ends
        self._held: set[socket.socket] = set()  # accepted while blackholed, never answered
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="cache-proxy", daemon=True)

    def start(self) -> CacheProxy:
        self._thread.start()
        return self

    def cut(self, mode: str = REFUSE) -> None:
        """Make the cache unreachable: every open connection closed, new ones refused or ignored."""
        with self._lock:
            self.mode = mode
            sockets, self._open = self._open | self._held, set()
            self._held = set()
        for sock in sockets:
            self._close(sock)

    def restore(self) -> None:
        with self._lock:
            self.mode = FORWARD
            held, self._held = self._held, set()
        for sock in held:
            self._close(sock)

    def stop(self) -> None:
        self._stopped.set()
        self.cut(REFUSE)
        self._thread.join(timeout=2)
        self.listener.close()

    def _close(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode = self.mode
                self.accepted += 1
                if mode != FORWARD:
                    self.dropped += 1
            if mode == REFUSE:
                # A reset, as from a closed port: the client learns at once.
                with contextlib.suppress(OSError):
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self._close(client)
                continue
            if mode == BLACKHOLE:
                with self._lock:
                    self._held.add(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=1)
            except OSError:
                self._close(client)
                continue
            with self._lock:
                if self.mode != FORWARD:  # cut while connecting
                    self._close(client)
                    self._close(upstream)
                    continue
                self._open.update({client, upstream})
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            a.setblocking(False)
            b.setblocking(False)
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            while not self._stopped.is_set():
                for key, _ in selector.select(timeout=0.5):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.setblocking(True)
                    key.data.sendall(data)
                    key.data.setblocking(False)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            with self._lock:
                self._open.discard(a)
                self._open.discard(b)
            self._close(a)
            self._close(b)
