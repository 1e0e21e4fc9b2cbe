"""httpx's transport over a connection pool whose every connection goes to an address
the guard checked, with one deadline over connect, TLS, writes and every read.

The URL keeps its host name, so the `Host` header, the TLS server name and certificate
verification all use the name; only the TCP connect is pinned. The pins and the
deadline of the call in progress live in a context variable, set by the client around
one call (connects and reads happen in the calling thread)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import certifi
import httpcore
import httpx

# (address, port, timeout) -> an open stream. Injectable so tests can see every connect.
Connect = Callable[[str, int, float | None], httpcore.NetworkStream]


@dataclass
class CallScope:
    deadline: float  # a time.monotonic() value
    pins: dict[tuple[str, int], list[str]] = field(default_factory=dict)


CURRENT_CALL: ContextVar[CallScope | None] = ContextVar("guarded_http_call", default=None)


def _time_left(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    scope = CURRENT_CALL.get()
    if scope is None:
        return timeout
    left = scope.deadline - time.monotonic()
    if left <= 0:
        raise timeout_error("the call ran past its deadline")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A stream whose every read and write ends by the deadline of the current call, so a
    server that trickles bytes cannot stretch a call past it."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        wrapped = self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(wrapped)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects only to the addresses checked for this host and port in the current call;
    a host the guard did not check is never connected, and nothing is resolved here."""

    def __init__(self, connect: Connect | None = None):
        system = httpcore.SyncBackend()
        self._connect = connect or (lambda address, port, timeout: system.connect_tcp(address, port, timeout=timeout))

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        scope = CURRENT_CALL.get()
        addresses = scope.pins.get((host, port)) if scope else None
        if not addresses:
            raise httpcore.ConnectError(f"{host}:{port} was not checked by the guard")
        failure: Exception | None = None
        for address in addresses:
            try:
                return DeadlineStream(self._connect(address, port, _time_left(timeout, httpcore.ConnectTimeout)))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError("no address to connect to")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise httpcore.ConnectError("unix sockets are never reachable from a node")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx.HTTPTransport with the pinned backend and certificate verification always on.

    It does not call HTTPTransport.__init__, which would build a pool on the system backend
    and honour proxy and certificate settings from the environment (trust_env)."""

    def __init__(
        self,
        *,
        connect: Connect | None = None,
        trusted_cas: ssl.SSLContext | None = None,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
    ):
        # `trusted_cas` replaces the CA bundle (tests trust their own CA); it is a full
        # verifying context, never a way to switch verification off.
        ssl_context = trusted_cas or ssl.create_default_context(cafile=certifi.where())
        if ssl_context.verify_mode != ssl.CERT_REQUIRED or not ssl_context.check_hostname:
            raise ValueError("the guarded client always verifies certificates and host names")
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=20,
            keepalive_expiry=keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=PinnedBackend(connect),
        )
