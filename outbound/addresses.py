"""Which addresses a user-supplied URL may reach: global ones, or hosts opened on purpose.

A host is read the way a resolver would read it: `2130706433`, `0x7f.1`, `017700000001`
and `127.1` are all 127.0.0.1 (inet_aton's forms, which getaddrinfo accepts), so a host
whose last label is a number is parsed as IPv4 here and never handed to the resolver.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from outbound.errors import HttpCallError, refused

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to, as text.
Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}
_NUMERIC_LABEL = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses getaddrinfo gives for host, in its order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        retryable = exc.errno == socket.EAI_AGAIN
        raise HttpCallError("host_not_found", f"The host {host} could not be resolved.", retryable=retryable) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _numeric_part(label: str) -> int:
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)  # ValueError for 8 or 9: not an address
    return int(label)


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host stands for (decimal, octal, hex, short forms), or
    None when the host is a name. A numeric host that is no valid address is refused."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels = labels[:-1]
    if not _NUMERIC_LABEL.match(labels[-1]):
        return None
    try:
        if len(labels) > 4 or not all(_NUMERIC_LABEL.match(label) for label in labels):
            raise ValueError
        *head, last = [_numeric_part(label) for label in labels]
        if any(part > 255 for part in head) or last >= 256 ** (4 - len(head)):
            raise ValueError
    except ValueError:
        raise refused(f"The host {host} is not a valid address.") from None
    value = sum(part << (8 * (3 - index)) for index, part in enumerate(head)) + last
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> Address | None:
    """The address a host names literally (IPv6 without brackets, or any IPv4 form)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return numeric_ipv4(host)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches (mapped, compatible, 6to4, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _NAT64_LOCAL or int(address) >> 32 == 0:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_public(inner)
    # fec0::/10 (site-local, deprecated but still routed inside some networks) counts as
    # global for ipaddress; it is as internal as fc00::/7.
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified or site_local
    )


def resolve_by(resolver: Resolver, host: str, port: int, deadline: float | None) -> list[str]:
    """resolver(host, port), ended by `deadline` (a time.monotonic() value): getaddrinfo
    has no timeout of its own, so it runs in a thread of its own that is abandoned (it
    ends when the system resolver gives up) once the deadline passes."""
    if deadline is None:
        return resolver(host, port)
    addresses: list[str] = []
    failures: list[Exception] = []

    def lookup() -> None:
        try:
            addresses.extend(resolver(host, port))
        except Exception as exc:  # raised again in the caller's thread
            failures.append(exc)

    thread = threading.Thread(target=lookup, name="guarded-http-resolve", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        raise HttpCallError("http_timeout", f"The host {host} was not resolved in time.", retryable=True)
    if failures:
        raise failures[0]
    return addresses


def host_key(host: str) -> str:
    """A host as the allow-list compares it: lower case, no trailing dot, literal
    addresses in their canonical form."""
    host = host.strip().lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        literal = literal_address(host)
    except HttpCallError:
        return host
    return str(literal) if literal is not None else host


@dataclass(frozen=True)
class AllowList:
    """`host:port` entries (SWITCHBOARD_HTTP_ALLOWED_HOSTS) reachable whatever their addresses."""

    entries: frozenset[tuple[str, int]]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        parsed = set()
        for entry in entries:
            host, separator, port = entry.strip().rpartition(":")
            if not separator or not port.isdigit() or not host:
                raise ValueError(f"SWITCHBOARD_HTTP_ALLOWED_HOSTS entries are host:port; got {entry!r}")
            parsed.add((host_key(host), int(port)))
        return cls(frozenset(parsed))

    def permits(self, host: str, port: int) -> bool:
        return (host_key(host), port) in self.entries


def checked_addresses(
    scheme: str, host: str, port: int, *, resolver: Resolver, allowed: AllowList, deadline: float | None = None
) -> list[str]:
    """The addresses a connection to host:port may use, every one checked; raises
    HttpCallError (url_not_allowed) before anything is connected, or http_timeout when
    the lookup does not end by `deadline`."""
    if scheme not in DEFAULT_PORTS:
        raise refused(f"Only http and https URLs are allowed, not {scheme or 'a URL without a scheme'}.")
    if not host:
        raise refused("The URL has no host.")
    opened = allowed.permits(host, port)
    literal = literal_address(host)
    if literal is not None:
        if not opened and not is_public(literal):
            raise refused(f"The address {host} is not a public address.")
        return [str(literal)]
    addresses = resolve_by(resolver, host.removesuffix("."), port, deadline)
    if not addresses:
        raise HttpCallError("host_not_found", f"The host {host} has no address.")
    try:
        parsed = [ipaddress.ip_address(address.split("%", 1)[0]) for address in addresses]
    except ValueError:
        raise refused(f"The host {host} resolved to something that is not an address.") from None
    if not opened and not all(is_public(address) for address in parsed):
        raise refused(f"The host {host} resolves to an address that is not public.")
    return [str(address) for address in parsed]
