"""The guarded client: every hop checked before it is connected, one deadline, a size cap.

It drives the transport itself rather than through httpx.Client: a client shared by the
whole process would keep one user's cookies for the next user's calls, and logs each URL
(query strings included) at INFO. Nothing here reads the environment (no proxies)."""

from __future__ import annotations

import json as jsonlib
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from outbound.addresses import DEFAULT_PORTS, AllowList, Resolver, checked_addresses, system_resolver
from outbound.body import read_body
from outbound.errors import HttpCallError, refused, transport_failure
from outbound.transport import CURRENT_CALL, CallScope, Connect, PinnedTransport

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Dropped when a redirect leaves the origin: they were meant for the first server only.
ORIGIN_BOUND_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# identity: a server that compresses anyway (or a node that asks for gzip) is inflated
# within the size cap (body.py).
DEFAULT_HEADERS = {"user-agent": "Switchboard", "accept": "*/*", "accept-encoding": "identity"}


@dataclass(frozen=True)
class GuardedResponse:
    status: int
    headers: httpx.Headers
    content: bytes
    url: str  # the final URL, after redirects

    def text(self) -> str:
        charset = httpx.Response(self.status, headers=self.headers).charset_encoding or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except (LookupError, UnicodeError):  # `charset=binary`, `utf8mb4`, `base64`: not a text encoding we know
            return self.content.decode("utf-8", errors="replace")

    def safe_url(self) -> str:
        return describe(httpx.URL(self.url))

    def is_json(self) -> bool:
        media_type: str = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return media_type == "application/json" or media_type.endswith("+json")


def _without(headers: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    names = set(names)
    return {name: value for name, value in headers.items() if name not in names}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _origin_text(url: httpx.URL) -> str:
    """Only the origin: a path the server chose may carry what it was sent."""
    return describe(url.copy_with(path="/"))


def _carries(url: httpx.URL, values: Iterable[str]) -> bool:
    """Whether the URL holds any of the values, as written or percent-decoded."""
    seen = " ".join([str(url), url.host, url.path, *(value for _, value in url.params.multi_items())])
    return any(value and value in seen for value in values)


def describe(url: httpx.URL) -> str:
    """A URL for messages: no query or credentials, which may carry secrets."""
    port = f":{url.port}" if url.port else ""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}{url.path}"


class GuardedHttpClient:
    """One per process (guarded_client()); tests build their own with an injected resolver
    or connect to watch what is resolved and connected."""

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        connect: Connect | None = None,
        allowed_hosts: Iterable[str] | None = None,
        trusted_cas: ssl.SSLContext | None = None,
    ):
        self.resolver = resolver
        self._allowed_hosts = allowed_hosts  # None: SWITCHBOARD_HTTP_ALLOWED_HOSTS, read at each call
        self._transport = PinnedTransport(connect=connect, trusted_cas=trusted_cas)

    def close(self) -> None:
        self._transport.close()

    def allow_list(self) -> AllowList:
        entries = self._allowed_hosts
        if entries is None:
            entries = settings.SWITCHBOARD.http_allowed_hosts
        return AllowList.parse(entries)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
        timeout_s: float | None = None,
        deadline: float | None = None,
        max_bytes: int | None = None,
        origin_bound_headers: Iterable[str] = (),
        origin_bound_params: Iterable[str] = (),
        origin_bound_body: bool = False,
    ) -> GuardedResponse:
        """Sends the request, following up to HTTP_MAX_REDIRECTS redirects, each hop
        checked again. Ends by `deadline` (a time.monotonic() value) and within `timeout_s`,
        whichever comes first. Raises HttpCallError.

        The origin_bound_* arguments name what holds a secret, meant for the first origin
        only: such headers are dropped when a redirect leaves it, and a redirect that would
        take such a body (307/308) or query value to another origin is refused."""
        limits = settings.SWITCHBOARD
        end = time.monotonic() + (timeout_s or limits.http_timeout_s)
        if deadline is not None:
            end = min(end, deadline)
        max_bytes = max_bytes or limits.http_max_response_bytes
        allowed = self.allow_list()
        try:
            current = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            # The URL holds no secret (validation keeps secrets out of it), the query may.
            raise HttpCallError("invalid_url", f"The URL is not valid: {exc}") from None
        try:
            current = current.copy_merge_params(params) if params else current
        except (httpx.InvalidURL, TypeError, ValueError):
            raise HttpCallError("invalid_url", "The query could not be added to the URL.") from None
        bound_names = set(origin_bound_params)
        bound_values = [str(value) for name, value in (params or {}).items() if name in bound_names]
        # Header values go out as UTF-8 (httpx alone would refuse anything outside ASCII).
        given = {name.lower(): value if value.isascii() else value.encode() for name, value in (headers or {}).items()}
        send_headers: dict[str, Any] = {**DEFAULT_HEADERS, **given}
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            send_headers.setdefault("content-type", "application/json")
        elif content is not None:
            body = content.encode() if isinstance(content, str) else content
        dropped_on_leave = ORIGIN_BOUND_HEADERS | {name.lower() for name in origin_bound_headers}

        scope = CallScope(deadline=end)
        token = CURRENT_CALL.set(scope)
        try:
            for _hop in range(limits.http_max_redirects + 1):
                port = current.port or DEFAULT_PORTS.get(current.scheme, 0)
                addresses = checked_addresses(
                    current.scheme, current.host, port, resolver=self.resolver, allowed=allowed, deadline=end
                )
                scope.pins = {(current.raw_host.decode("ascii"), port): addresses}
                response = self._send(method, current, send_headers, body, end)
                try:
                    location = response.headers.get("location")
                    if response.status_code not in REDIRECT_STATUSES or not location:
                        # These answers have no body, whatever Content-Length says (the size of
                        # the resource, for HEAD): nothing to read, nothing to cap.
                        bodiless = method == "HEAD" or response.status_code in (204, 304) or response.status_code < 200
                        content = b"" if bodiless else read_body(response, max_bytes, end)
                        return GuardedResponse(response.status_code, response.headers, content, str(current))
                finally:
                    response.close()
                following = self._follow(current, location)
                if (response.status_code == 303 and method != "HEAD") or (
                    response.status_code in (301, 302) and method == "POST"
                ):
                    # What browsers do: the redirected request is a GET without the body.
                    method, body = "GET", None
                    send_headers = _without(send_headers, {"content-type", "content-length"})
                if _origin(following) != _origin(current):
                    if origin_bound_body and body is not None:
                        raise refused(
                            f"{describe(current)} redirected to {_origin_text(following)}, another origin, keeping the"
                            " method; the body holds a secret and is not sent there. Call that URL directly."
                        )
                    if _carries(following, bound_values):
                        raise refused(
                            f"{describe(current)} redirected to {_origin_text(following)}, another origin, with a"
                            " secret from the query in the new URL; it is not sent there."
                        )
                    send_headers = _without(send_headers, dropped_on_leave)
                current = following
        finally:
            CURRENT_CALL.reset(token)
        raise HttpCallError("too_many_redirects", f"More than {limits.http_max_redirects} redirects.")

    @staticmethod
    def _follow(current: httpx.URL, location: str) -> httpx.URL:
        try:
            return current.join(location)
        except (httpx.InvalidURL, ValueError):
            raise refused(f"{describe(current)} redirected to a URL that is not valid.") from None

    def _send(
        self, method: str, url: httpx.URL, headers: dict[str, Any], body: bytes | None, end: float
    ) -> httpx.Response:
        left = max(0.001, end - time.monotonic())
        timeouts = {"connect": left, "read": left, "write": left, "pool": left}
        try:
            request = httpx.Request(method, url, headers=headers, content=body, extensions={"timeout": timeouts})
            return self._transport.handle_request(request)
        except httpx.TimeoutException:
            raise HttpCallError(
                "http_timeout", f"{method} {describe(url)} did not answer in time.", retryable=True
            ) from None
        except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            message = f"{method} {describe(url)} could not be sent: {transport_failure(exc)}."
            raise HttpCallError("invalid_request", message) from None
        except httpx.TransportError as exc:
            message = f"{method} {describe(url)} failed: {transport_failure(exc)}"
            raise HttpCallError("http_connection_failed", message, retryable=True) from None


_CLIENT: GuardedHttpClient | None = None
_CLIENT_LOCK = threading.Lock()


def guarded_client() -> GuardedHttpClient:
    """The process's client, built on first use (after a worker forks, never before)."""
    global _CLIENT
    if _CLIENT is None:
        with _CLIENT_LOCK:
            if _CLIENT is None:
                _CLIENT = GuardedHttpClient()
    return _CLIENT
