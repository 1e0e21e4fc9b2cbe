"""An HTTP server whose answers wait for the test: a request is held until the test
releases its client's address, then answered `{"answered_to": <address>}`. A node that
calls it is a slow node whose end the test decides, per host (tests/support/netns.py),
instead of a clock."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.markers import require_marker

# Longest a request is held: a test that never releases it still ends.
HOLD_MAX_S = 120


class HeldAnswersServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), HeldAnswer)
        self.host = host
        self.lock = threading.Lock()
        self.released: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.callers: list[str] = []  # the client address of every request, in arrival order

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str = "/held") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def gate(self, address: str) -> threading.Event:
        with self.lock:
            self.callers.append(address)
            return self.released[address]

    def release(self, address: str) -> None:
        """Answers the requests from `address`, those held and those to come."""
        with self.lock:
            self.released[address].set()

    def release_all(self) -> None:
        with self.lock:
            for event in self.released.values():
                event.set()


class HeldAnswer(BaseHTTPRequestHandler):
    server: HeldAnswersServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        address = self.client_address[0]
        self.server.gate(address).wait(timeout=HOLD_MAX_S)
        body = json.dumps({"answered_to": address}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def held_answers(host: str) -> Iterator[HeldAnswersServer]:
    """The server on `host` (an address of this machine), in threads of the test process."""
    require_marker("server", "starts an HTTP server")
    server = HeldAnswersServer(host)
    thread = threading.Thread(target=server.serve_forever, name="held-answers", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release_all()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
