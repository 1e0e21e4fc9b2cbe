"""The emulator's HTTP server: one port serves every provider, routed by path prefix, plus
the control API under /_emulator/ (faults, call counters, reset)."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from ai_providers.emulator import wire
from ai_providers.emulator.state import EmulatorState, Fault, FaultError

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024

# (pattern, provider, kind). The prefixed paths are what settings point each provider at;
# the bare ones let an SDK reach the emulator with its default paths.
_ROUTES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^/openrouter/v1/chat/completions$"), "openrouter", "chat"),
    (re.compile(r"^/openai-compatible/v1/chat/completions$"), "openai_compatible", "chat"),
    (re.compile(r"^/v1/chat/completions$"), "openai_compatible", "chat"),
    (re.compile(r"^/(?:groq/)?openai/v1/chat/completions$"), "groq", "chat"),
    (re.compile(r"^/hf/v1/chat/completions$"), "huggingface", "chat"),
    (
        re.compile(r"^/hf/(?:hf-inference/)?models/(?P<model>.+?)(?:/pipeline/text-classification)?$"),
        "huggingface",
        "classification",
    ),
    (re.compile(r"^/(?:gemini/)?v1(?:beta)?/models/(?P<model>[^/:]+):generateContent$"), "gemini", "gemini"),
]


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    # Headers and body leave in one write (a buffered wfile, flushed in `_send`), without
    # Nagle: two small writes on a keep-alive socket stall ~40 ms on the client's delayed ACK.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    server: EmulatorServer

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("emulator %s", format % args)

    # --- plumbing --------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise wire.WireError("Body too large.")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Switchboard-Emulated", "1")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout is shorter than a latency fault).
            self.close_connection = True

    def _send_json(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, wire.encode(data), headers)

    # --- verbs -----------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except (ValueError, wire.WireError):
            self._send_json(400, {"error": {"message": "Unreadable body."}})
            return
        if url.path.startswith("/_emulator/"):
            self._control(method, url.path, parse_qs(url.query), body)
            return
        for pattern, provider, kind in _ROUTES:
            match = pattern.match(url.path)
            if match and method == "POST":
                self._provider_call(provider, kind, unquote(match.groupdict().get("model") or ""), url.query, body)
                return
        self._send_json(404, {"error": {"message": f"No emulated endpoint at {method} {url.path}."}})

    # --- provider endpoints ----------------------------------------------------------
    def _has_credentials(self, provider: str, query: str) -> bool:
        if provider == "gemini":
            return bool(self.headers.get("x-goog-api-key") or parse_qs(query).get("key"))
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and bool(token.strip())

    def _provider_call(self, provider: str, kind: str, path_model: str, query: str, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"null")
            if kind == "chat":
                request: wire.ChatRequest | str = wire.read_openai_chat(body)
            elif kind == "gemini":
                request = wire.read_gemini(path_model, body)
            else:
                request = wire.read_classification(body)
        except (ValueError, wire.WireError) as exc:
            self._send_json(400, wire.error_body(provider, 400) | {"detail": str(exc)})
            return
        model = request.model if isinstance(request, wire.ChatRequest) else path_model
        state = self.server.state
        state.count_call(provider, model)
        if not self._has_credentials(provider, query):
            self._send_json(401, wire.error_body(provider, 401))
            return
        fault = state.take_fault(provider, model)
        if fault and fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault and (fault.status or fault.quota):
            status = fault.status or wire.quota_status(provider)
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
            body_out = wire.error_body(
                provider, status, quota=fault.quota, retry_after=fault.retry_after, message=fault.message
            )
            self._send_json(status, body_out, headers)
            return
        if (
            fault
            and fault.bad_json
            and provider == "groq"
            and isinstance(request, wire.ChatRequest)
            and request.json_mode
        ):
            # Groq checks a JSON-mode answer itself and answers 400 instead of sending it.
            self._send_json(400, wire.groq_json_failure(wire.reply_text(request, bad_json=True)))
            return
        if fault and fault.malformed:
            self._send(200, wire.malformed_body())
            return
        if isinstance(request, str):
            self._send_json(200, wire.classification_answer(request))
            return
        if fault and fault.empty:
            answer = wire.gemini_empty_answer(request) if kind == "gemini" else wire.openai_empty_answer(request)
            self._send_json(200, answer)
            return
        text = wire.reply_text(request, bad_json=bool(fault and fault.bad_json))
        answer = wire.gemini_answer(request, text) if kind == "gemini" else wire.openai_chat_answer(request, text)
        self._send_json(200, answer)

    # --- control API -----------------------------------------------------------------
    def _peer_is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            return False

    def _control(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        if not self._peer_is_loopback():
            self._send_json(403, {"error": {"message": "The control API answers only on the loopback interface."}})
            return
        state = self.server.state
        if path == "/_emulator/health" and method == "GET":
            self._send_json(200, {"ok": True, "emulator": True})
        elif path == "/_emulator/calls" and method == "GET":
            self._send_json(200, state.calls())
        elif path == "/_emulator/reset" and method == "POST":
            state.reset()
            self._send_json(200, {"ok": True})
        elif path == "/_emulator/faults" and method == "GET":
            self._send_json(200, {"faults": state.faults()})
        elif path == "/_emulator/faults" and method == "DELETE":
            state.clear_faults(query.get("provider", [None])[0])
            self._send_json(200, {"faults": state.faults()})
        elif path == "/_emulator/faults" and method == "POST":
            try:
                data = json.loads(raw or b"null")
                faults = [Fault.from_json(item) for item in (data if isinstance(data, list) else [data])]
            except (ValueError, FaultError) as exc:
                self._send_json(400, {"error": {"message": str(exc)}})
                return
            for fault in faults:
                state.add_fault(fault)
            self._send_json(201, {"faults": state.faults()})
        else:
            self._send_json(404, {"error": {"message": f"No control endpoint at {method} {path}."}})


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), EmulatorHandler)
        self.state = EmulatorState()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # an IPv4 or IPv6 address: text
        return f"http://{host}:{port}"

    def start_in_thread(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self.serve_forever, name="provider-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
