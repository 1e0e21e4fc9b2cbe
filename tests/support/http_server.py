"""A real HTTP server on 127.0.0.1 for the HTTP_REQUEST and guarded-client tests. It
counts hits per path and keeps every request it received.

Routes: /echo (the request as JSON), /text, /status/<code>, /flaky/<n> (503 for the first
n hits), /retry-after/<s> (429), /big/<n> (n bytes, with Content-Length), /unsized/<n>
(n bytes, close-delimited), /trickle (1 byte every 0.2 s), /redirect?to=<url>&code=<n>,
/loop (redirects to itself), /echo-auth-error (500 echoing the Authorization header),
/gzip/<n> and /deflate/<n>[?raw=1] (n zero bytes, compressed, with Content-Encoding: the
route's name, or `label`).
"""

from __future__ import annotations

import functools
import gzip
import json
import ssl
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.markers import require_marker


class Handler(BaseHTTPRequestHandler):
    server: LocalHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", content_type: str = "text/plain", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        headers = {name.lower(): value for name, value in self.headers.items()}
        hit = self.server.record(parts.path, self.command, headers, body, query)
        segments = parts.path.strip("/").split("/")
        route, arg = segments[0], (segments[1] if len(segments) > 1 else "")
        if route == "echo":
            echo = {"method": self.command, "path": parts.path, "query": query, "headers": headers, "body": body}
            self._answer(200, json.dumps(echo).encode(), "application/json", X_Hit=str(hit))
        elif route == "text":
            self._answer(200, b"plain words", "text/plain; charset=utf-8")
        elif route == "status":
            self._answer(int(arg), f"status {arg}".encode())
        elif route == "flaky":
            if hit <= int(arg):
                self._answer(503, b"try again")
            else:
                self._answer(200, json.dumps({"hit": hit}).encode(), "application/json")
        elif route == "retry-after":
            self._answer(429, b"slow down", Retry_After=arg)
        elif route == "big":
            self._answer(200, b"x" * int(arg))
        elif route == "unsized":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"y" * int(arg))
            self.close_connection = True
        elif route == "trickle":
            self._trickle()
        elif route in ("redirect", "loop"):
            target = query.get("to", "/loop")
            self._answer(int(query.get("code", 302)), b"", Location=target)
        elif route in ("gzip", "deflate"):
            body = compressed_zeros(route, int(arg), raw=query.get("raw") == "1")
            self._answer(200, body, "application/octet-stream", Content_Encoding=query.get("label", route))
        elif route == "slow-503":  # a retryable failure that takes `arg` ms to come
            time.sleep(int(arg) / 1000)
            self._answer(503, b"try again")
        elif route == "charset":  # a charset name Python does not know
            self._answer(200, "caf\u00e9".encode(), f"text/plain; charset={arg}")
        elif route == "nan":  # what Python's json reads but no database stores
            self._answer(200, b'{"v": NaN, "big": 1e400}', "application/json")
        elif route == "nul-error":
            self._answer(int(arg or 500), b"broken\x00reply", "text/plain")
        elif route == "echo-auth-error":
            self._answer(500, f"bad token {headers.get('authorization', '')}".encode())
        else:
            self._answer(404, b"no such route")

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "100")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client gave up, as it should

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def compressed_zeros(coding: str, size: int, *, raw: bool = False) -> bytes:
    """size zero bytes as gzip, zlib-wrapped deflate or raw deflate: 10 MB shrink to ~10 KB,
    a small answer that inflates far past any cap. Cached, so a test can make it first."""
    return _compressed_zeros(coding, size, raw)


@functools.cache
def _compressed_zeros(coding: str, size: int, raw: bool) -> bytes:
    if coding == "gzip":
        return gzip.compress(bytes(size))
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return compressor.compress(bytes(size)) + compressor.flush()


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: Counter[str] = Counter()
        self.requests: list[dict] = []
        self.server_names: list[str | None] = []
        self._lock = threading.Lock()
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str = "/echo", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def record(self, path: str, method: str, headers: dict, body: str, query: dict) -> int:
        with self._lock:
            self.hits[path] += 1
            self.requests.append(
                {"path": path, "method": method, "headers": headers, "body": body, "query": query, "at": time.time()}
            )
            return self.hits[path]

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())


@contextmanager
def running_test_server(tls: ssl.SSLContext | None = None) -> Iterator[LocalHttpServer]:
    require_marker("server", "starts the HTTP test server")
    server = LocalHttpServer(tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def allow(settings: Any, *entries: str) -> None:
    """Opens host:port entries through SWITCHBOARD_HTTP_ALLOWED_HOSTS for this test."""
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, http_allowed_hosts=list(entries))


def limit(settings: Any, **values: Any) -> None:
    """Sets limits for this test by their variables' names (HTTP_MAX_REDIRECTS=3)."""
    fields = {name.lower(): tuple(value) if isinstance(value, list) else value for name, value in values.items()}
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, **fields)


def tls_contexts(tmp_path: Any, host_name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for host_name signed by a throwaway CA, and a
    client context that trusts that CA (and verifies as usual)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("Switchboard test CA", ca_key, "Switchboard test CA", ca_key, ca=True)
    leaf_cert = certificate(host_name, leaf_key, "Switchboard test CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf_cert.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    return server, client
