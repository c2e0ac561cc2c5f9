"""A webhook POST (issue 17): never to the service's own network, whatever DNS answers and when;
redirects not followed; every wait bounded; the answer read up to a limit."""

import socket
import time

import pytest

from projects.webhooks import transport
from projects.webhooks.transport import DeliveryFailed, TargetRefused, post, refused_because
from tests.support.receiver import url

REFUSED = [
    "127.0.0.1",
    "127.1.2.3",
    "::1",
    "10.0.0.8",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space
    "0.0.0.0",  # noqa: S104 (an address refused, not bound)
    "224.0.0.1",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # a cloud's IPv6 metadata
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "240.0.0.1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_private_and_special_addresses_are_refused(address):
    assert refused_because(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert refused_because(address) is None


def resolving_to(monkeypatch, *answers):
    """The resolver answers ``answers`` in turn (one list per call), counting its calls."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        addresses = answers[min(len(calls), len(answers)) - 1]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(transport.socket, "getaddrinfo", getaddrinfo)
    return calls


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.1.2.3", "::1"])
def test_a_name_resolving_to_a_refused_address_is_never_connected_to(monkeypatch, address):
    resolving_to(monkeypatch, [address])
    connected = []
    monkeypatch.setattr(transport.socket.socket, "connect", lambda self, target: connected.append(target))
    with pytest.raises(TargetRefused, match="hooks.example.org resolves to") as refused:
        post("https://hooks.example.org/in", b"{}", {})
    assert connected == []
    assert address not in str(refused.value)  # the kind only: the log must not map the network


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    """DNS rebinding: a name that answers a public address, then a loopback one. The name is
    resolved once and the socket connected to that checked address."""
    calls = resolving_to(monkeypatch, ["93.184.215.14"], ["127.0.0.1"])
    connected = []

    def connect(self, target):
        connected.append(target)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(transport.socket.socket, "connect", connect)
    with pytest.raises(DeliveryFailed, match="could not connect"):
        post("https://rebind.example.org/in", b"{}", {})
    assert calls == ["rebind.example.org"] and connected == [("93.184.215.14", 443)]


def test_mixed_answers_connect_only_to_public_addresses(monkeypatch):
    resolving_to(monkeypatch, ["127.0.0.1", "93.184.215.14"])
    connected = []

    def connect(self, target):
        connected.append(target[0])
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(transport.socket.socket, "connect", connect)
    with pytest.raises(DeliveryFailed):
        post("http://mixed.example.org/in", b"{}", {})
    assert connected == ["93.184.215.14"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/x",
        "file:///etc/passwd",
        "https://user:pw@example.org/x",
        "http:///nohost",
        "example.org",
    ],
)
def test_only_plain_http_and_https_urls(url):
    with pytest.raises(TargetRefused):
        post(url, b"{}", {}, allow_private=True)


def test_loopback_is_refused_unless_allowed(receiver):
    with pytest.raises(TargetRefused, match="loopback"):
        post(url(receiver), b"{}", {})
    assert receiver.received == []
    answer = post(url(receiver), b'{"a": 1}', {"webhook-id": "msg_1"}, allow_private=True)
    assert (answer.status, answer.body, answer.address) == (200, b"ok", "127.0.0.1")
    path, headers, body = receiver.received[0]
    assert path == "/hook?x=1" and body == b'{"a": 1}'
    assert headers["webhook-id"] == "msg_1" and headers["Content-Type"] == "application/json"


def test_a_redirect_is_an_answer_not_followed(receiver):
    receiver.behaviour = "redirect"
    answer = post(url(receiver), b"{}", {}, allow_private=True)
    assert answer.status == 302 and len(receiver.received) == 1


def test_a_slow_endpoint_times_out(receiver):
    receiver.behaviour = "slow"
    began = time.monotonic()
    with pytest.raises(DeliveryFailed, match="no answer within 0.5 s"):
        post(url(receiver), b"{}", {}, timeout=0.5, allow_private=True)
    assert time.monotonic() - began < 1.5


def test_a_large_answer_is_read_up_to_the_limit(receiver):
    receiver.behaviour = "large"
    answer = post(url(receiver), b"{}", {}, allow_private=True)
    assert answer.status == 200 and len(answer.body) == transport.MAX_RESPONSE


def test_a_closed_port_is_a_failure_with_its_reason():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(DeliveryFailed, match="could not connect"):
        post(f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True)
