"""core/wsgi_on_asgi.py: what reaches Django's thread, driven as an ASGI server drives it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from typing import Any

from core.wsgi_on_asgi import CLIENT_DEPARTED, WSGIOnASGI


class Recorder:
    """A WSGI app that notes what it was given; `hold` keeps it streaming until the
    client departs (as an event stream does)."""

    def __init__(self, hold: bool = False):
        self.calls: list[dict[str, Any]] = []
        self.hold = hold

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.calls.append({"body": body, "length": environ.get("CONTENT_LENGTH"), "departed": environ[CLIENT_DEPARTED]})
        start_response("200 OK", [("Content-Type", "text/plain")])
        if self.hold:
            return self.until_departed(environ[CLIENT_DEPARTED])
        return [b"ok"]

    @staticmethod
    def until_departed(departed: threading.Event) -> Iterable[bytes]:
        while not departed.wait(0.01):
            yield b": keep-alive\n"


def serve(
    app: WSGIOnASGI,
    messages: list[dict[str, Any]],
    headers: list[tuple[bytes, bytes]],
    leaves_once_answered: bool = False,
) -> list[dict]:
    """Runs one request; `messages` are what the client sends, then it stays, or leaves
    once the response has started."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def run() -> None:
        started = asyncio.Event()
        pending = list(messages)

        async def receive() -> dict:
            if pending:
                return pending.pop(0)
            if leaves_once_answered:
                await started.wait()
            else:
                await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)
            started.set()

        await asyncio.wait_for(app(scope, receive, send), timeout=10)

    asyncio.run(run())
    return sent


def test_a_chunked_body_reaches_django_whole_with_its_length() -> None:
    recorder = Recorder()
    app = WSGIOnASGI(recorder, threads=2, body_limit=lambda: 100)
    chunks = [{"type": "http.request", "body": b'{"a":', "more_body": True}, {"type": "http.request", "body": b"1}"}]
    sent = serve(app, chunks, [(b"transfer-encoding", b"chunked")])
    assert recorder.calls[0]["body"] == b'{"a":1}'
    assert recorder.calls[0]["length"] == "7"
    assert sent[0]["status"] == 200


def test_a_body_over_the_limit_is_read_only_one_byte_past_it() -> None:
    recorder = Recorder()
    app = WSGIOnASGI(recorder, threads=2, body_limit=lambda: 10)
    parts = [{"type": "http.request", "body": b"x" * 8, "more_body": True} for _ in range(100)]
    serve(app, parts, [(b"content-length", b"800")])
    # Django sees 11 bytes for a limit of 10: its 413, and the rest was never buffered.
    assert recorder.calls[0]["body"] == b"x" * 11
    assert recorder.calls[0]["length"] == "11"


def test_a_client_that_leaves_before_its_body_is_complete_runs_nothing() -> None:
    recorder = Recorder()
    app = WSGIOnASGI(recorder, threads=2, body_limit=lambda: 100)
    sent = serve(app, [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}], [])
    assert recorder.calls == []
    assert sent == []


def test_a_streaming_response_is_told_when_its_client_leaves() -> None:
    recorder = Recorder(hold=True)
    app = WSGIOnASGI(recorder, threads=2, body_limit=lambda: 100)
    sent = serve(app, [{"type": "http.request", "body": b""}], [], leaves_once_answered=True)
    # The stream ended (the request finished) because the departure reached its thread.
    assert recorder.calls[0]["departed"].is_set()
    assert sent[0]["status"] == 200
    assert sent[-1] == {"type": "http.response.body", "body": b""}
