"""Request bodies sent with `Transfer-Encoding: chunked` (no Content-Length).

gunicorn de-chunks them, but Django reads a body of the length CONTENT_LENGTH gives, and
without one it reads nothing: a client that streamed its JSON got a 400 for fields it
did send. This WSGI wrapper reads the de-chunked body, up to one byte past the body
limit (memory stays bounded), and hands Django a body with its length: the request is
handled, or a body over the limit gets the usual 413 `payload_too_large`."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_READ_SIZE = 64 * 1024


def read_up_to(stream: Any, limit: int | None) -> bytes:
    """What the stream holds, stopping at `limit` bytes (None: all of it)."""
    parts, size = [], 0
    while limit is None or size < limit:
        part = stream.read(_READ_SIZE if limit is None else min(_READ_SIZE, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


class ChunkedBodies:
    def __init__(self, app: WSGIApp):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        codings = [c.strip() for c in environ.get("HTTP_TRANSFER_ENCODING", "").lower().split(",")]
        # Only a server that de-chunked the body and ends its input there (gunicorn says so
        # with wsgi.input_terminated): from another, reading to the end could block on the
        # connection and hand Django the chunk framing.
        dechunked = codings[-1] == "chunked" and environ.get("wsgi.input_terminated")
        if dechunked and not environ.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = read_up_to(environ["wsgi.input"], None if limit is None else limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
