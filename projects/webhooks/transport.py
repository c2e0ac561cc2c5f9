"""One webhook POST that cannot reach the service's own network (SSRF), whatever DNS says.

The target's name is resolved once, every address is checked (only globally routable unicast
addresses, unless ``allow_private``: loopback, private, link-local — cloud metadata at
169.254.169.254 included —, shared, reserved, multicast and IPv4-mapped forms of them are
refused), and the connection is made to the checked address itself: a DNS answer that changes
between a check and a connect (rebinding) cannot move it. TLS still verifies the certificate
for the name. Redirects are never followed (http.client does not; a 3xx is an answer like any
other). Connecting, sending and each read wait at most ``timeout`` seconds, the whole delivery
at most about twice that, and at most ``MAX_RESPONSE`` bytes of the answer are read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 10.0
MAX_RESPONSE = 64 * 1024
USER_AGENT = "sdgscore-webhooks/1"


class DeliveryFailed(Exception):
    """The delivery did not get an answer: ``reason`` says why, for the delivery log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TargetRefused(DeliveryFailed):
    """The target is an address the service never connects to (or not a URL it takes)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # at most MAX_RESPONSE bytes
    address: str  # the address connected to


def refused_because(address: str) -> str | None:
    """Why the service would not connect to ``address`` (None: a public address)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, what in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (cloud metadata among them)"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_reserved, "a reserved address"),
    ):
        if test:
            return what
    if not ip.is_global:
        return "not a public address"
    return None


def _addresses(host: str, port: int, *, allow_private: bool) -> list[tuple[int, str]]:
    """The target's addresses the service may connect to, resolved once."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise DeliveryFailed(f"the name {host!r} did not resolve: {error}") from None
    allowed, refusals = [], []
    for family, _type, _proto, _name, sockaddr in found:
        address = sockaddr[0]
        why = None if allow_private else refused_because(address)
        if why:
            refusals.append(why)  # the kind only: the delivery log must not map the service's network
        elif (family, address) not in allowed:
            allowed.append((family, address))
    if not allowed:
        kinds = " and ".join(dict.fromkeys(refusals)) or "no address"
        raise TargetRefused(f"refused: {host} resolves to {kinds}")
    return allowed


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float = TIMEOUT,
    allow_private: bool = False,
) -> Answer:
    """POST ``body`` to ``url`` with ``headers``: the answer, or DeliveryFailed (TargetRefused
    for an address the service does not connect to)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("refused: give an http or https URL with a host")
    if parts.username or parts.password:
        raise TargetRefused("refused: a URL with a user name or password")
    host, secure = parts.hostname, parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    began = time.monotonic()
    errors = []
    for family, address in _addresses(host, port, allow_private=allow_private):
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect((address, port))
        except OSError as error:
            sock.close()
            errors.append(f"{address}: {error}")
            continue
        try:
            return _exchange(sock, parts, host, port, secure, body, headers, timeout, began, address)
        finally:
            sock.close()
    raise DeliveryFailed("could not connect: " + "; ".join(errors))


def _exchange(sock, parts, host, port, secure, body, headers, timeout, began, address) -> Answer:
    try:
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock  # connected to the checked address, never resolved again
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        received = bytearray()
        while len(received) < MAX_RESPONSE:
            if time.monotonic() - began > 2 * timeout:
                break  # the status is in; a body that drips forever is cut
            chunk = response.read1(MAX_RESPONSE - len(received))
            if not chunk:
                break
            received += chunk
        return Answer(response.status, bytes(received), address)
    except TimeoutError:
        raise DeliveryFailed(f"no answer within {timeout:g} s") from None
    except ssl.SSLError as error:
        raise DeliveryFailed(f"TLS: {error.reason or error}") from None
    except (OSError, http.client.HTTPException, ValueError, UnicodeError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
