"""The load proof's cache relay: it forwards until cut, then refuses or never answers, then forwards again."""

import socket
import threading

import pytest

from proof.cache_proxy import BLACKHOLE, REFUSE, CacheProxy


@pytest.fixture
def echo():
    """A loopback server that sends back each line it is sent."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=conn: _echo(c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()
    server.close()


def _echo(conn):
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def ask(port: int, text: bytes = b"PING\r\n") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(text)
        return sock.recv(1024)


def unanswered(sock: socket.socket, text: bytes) -> bool:
    """True when the connection is reset or closed instead of answering."""
    try:
        sock.sendall(text)
        return sock.recv(1024) == b""
    except OSError:
        return True


@pytest.fixture
def proxy(echo):
    relay = CacheProxy(echo).start()
    yield relay
    relay.stop()


def test_it_forwards_until_cut_and_again_once_restored(proxy):
    assert ask(proxy.port) == b"PING\r\n"
    proxy.cut(REFUSE)
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as sock:
            assert unanswered(sock, b"PING\r\n")
    except OSError:  # refused, reset or closed while connecting: as unanswered, by another path
        pass
    proxy.restore()
    assert ask(proxy.port, b"again\r\n") == b"again\r\n"


def test_a_cut_drops_connections_already_open(proxy):
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as sock:
        sock.sendall(b"one\r\n")
        assert sock.recv(1024) == b"one\r\n"
        proxy.cut(REFUSE)
        assert unanswered(sock, b"two\r\n")


def test_blackholed_connections_are_accepted_and_never_answered(proxy):
    proxy.cut(BLACKHOLE)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.3) as sock:
        sock.sendall(b"PING\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1024)
    assert proxy.dropped == 1
