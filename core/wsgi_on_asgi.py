"""The web tier's ASGI application: the request is read by the event loop, the API then
runs as Django's synchronous handler in a fixed pool of threads.

Under a threaded WSGI server a thread reads the request, so a client that sends its body
slowly holds a thread for as long as it likes: 40 such connections left the 16 threads of
`gunicorn --worker-class gthread` none free. Here the ASGI server (gunicorn's `asgi`
worker) reads headers and body without a thread, bounding the wait for a body by its
`--timeout`; only a request read in full is handed to a thread (a2wsgi's bridge), so a
thread is taken only by a request ready to run, as under gthread: one hand-off per
request, the synchronous views as fast as before. Long-lived responses (a `wait`, an
event stream) still hold their thread; moving them to async views is the front door's
next step.

The body is read up to one byte past DATA_UPLOAD_MAX_MEMORY_SIZE (memory stays bounded)
and handed on with its length, so a chunked body (no Content-Length) reaches Django
whole and a body over the limit gets the usual 413 `payload_too_large`.

A client that leaves is noticed here (an `http.disconnect` from the server) and told to
the request through `environ[CLIENT_DEPARTED]`, a threading.Event: a streaming response
checks it between frames, as a threaded server's failed write used to tell it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterable

from a2wsgi import WSGIMiddleware
from a2wsgi.asgi_typing import HTTPRequestEvent, HTTPScope, Receive, ReceiveEvent, Scope, Send
from a2wsgi.wsgi_typing import Environ, StartResponse, WSGIApp

CLIENT_DEPARTED = "switchboard.client_departed"

# The request's departure flag, set in the event loop's task and read in the thread that
# runs the request: a2wsgi runs it in a copy of the task's context.
_departed: contextvars.ContextVar[threading.Event] = contextvars.ContextVar("client_departed")


class WSGIOnASGI:
    def __init__(self, wsgi_app: WSGIApp, *, threads: int, body_limit: Callable[[], int | None]):
        self.wsgi_app = wsgi_app
        self.body_limit = body_limit
        self.bridge = WSGIMiddleware(self.with_departure, workers=threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: a2wsgi answers it
            await self.bridge(scope, receive, send)
            return
        limit = self.body_limit()
        body = await read_body(receive, None if limit is None else limit + 1)
        if body is None:
            return  # the client left before its request was complete: nothing to run
        departed = threading.Event()
        _departed.set(departed)
        watcher = asyncio.create_task(watch_departure(receive, departed))
        try:
            await self.bridge(with_length(scope, len(body)), replay(body), send)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    def with_departure(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ[CLIENT_DEPARTED] = _departed.get()  # type: ignore[literal-required]  # our own key
        return self.wsgi_app(environ, start_response)


async def read_body(receive: Receive, limit: int | None) -> bytes | None:
    """The request's body, stopping once `limit` bytes are in (None: all of it); None if
    the client left."""
    parts: list[bytes] = []
    size = 0
    while limit is None or size < limit:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            return None
        part = message.get("body", b"")
        parts.append(part)
        size += len(part)
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    return body if limit is None else body[:limit]


def with_length(scope: HTTPScope, length: int) -> HTTPScope:
    """The scope with the body's true length: Django reads CONTENT_LENGTH bytes."""
    headers = [
        (name, value) for name, value in scope["headers"] if name not in (b"content-length", b"transfer-encoding")
    ]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def replay(body: bytes) -> Receive:
    """A receive that gives the body read already, in one message."""
    sent = False

    async def receive() -> ReceiveEvent:
        nonlocal sent
        message: HTTPRequestEvent = {"type": "http.request", "body": b"" if sent else body, "more_body": False}
        sent = True
        return message

    return receive


async def watch_departure(receive: Receive, departed: threading.Event) -> None:
    """Sets `departed` when the server says the client left."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            departed.set()
            return
