"""Reading a response body within the size cap and the deadline, compressed or not.

The body is read raw and decoded here, never by httpx: httpx inflates a whole chunk at
once, so 64 KB of gzip could become ~64 MB in memory before any cap is checked. Here
every step of inflation is bounded by what is left of the cap."""

from __future__ import annotations

import time
import zlib

import httpx

from outbound.errors import HttpCallError, transport_failure


class BoundedInflater:
    """gzip or deflate, inflated at most `room` bytes at a time (zlib's max_length)."""

    def __init__(self, coding: str):
        self.coding = coding
        # gzip: the gzip wrapper; deflate: the zlib wrapper, or raw deflate as some servers
        # send it (decided on the first bytes, as httpx and browsers do).
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)
        self._started = False

    def inflate(self, data: bytes, room: int) -> list[bytes]:
        """The pieces `data` inflates to, stopping once more than `room` bytes came out."""
        pieces: list[bytes] = []
        while data and room > 0 and not self._inflater.eof:
            try:
                piece = self._inflater.decompress(data, room)  # room >= 1: 0 would mean unbounded
            except zlib.error:
                if self.coding != "deflate" or self._started:
                    raise
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = self._inflater.decompress(data, room)
            self._started = True
            pieces.append(piece)
            room -= len(piece)
            data = self._inflater.unconsumed_tail
        return pieces


def content_coding(headers: httpx.Headers) -> str | None:
    """ "gzip" or "deflate" when the body is compressed that way (one coding only); None to
    keep the bytes as sent, as httpx does for codings it does not know."""
    codings = [value.strip().lower() for value in headers.get("content-encoding", "").split(",") if value.strip()]
    codings = [coding for coding in codings if coding != "identity"]
    if len(codings) != 1:
        return None
    return {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}.get(codings[0])


def read_body(response: httpx.Response, max_bytes: int, end: float) -> bytes:
    """The decoded body, at most max_bytes of it, by `end` (a time.monotonic() value).
    Raises HttpCallError: response_too_large, http_timeout or http_connection_failed."""
    too_large = HttpCallError("response_too_large", f"The response is larger than {max_bytes} bytes.")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    coding = content_coding(response.headers)
    inflater = BoundedInflater(coding) if coding else None
    chunks: list[bytes] = []
    raw_size = size = 0
    try:
        for raw in response.iter_raw():
            raw_size += len(raw)
            if raw_size > max_bytes:
                raise too_large
            if time.monotonic() > end:
                raise httpx.ReadTimeout("the call ran past its deadline")
            for chunk in inflater.inflate(raw, max_bytes - size + 1) if inflater else [raw]:
                size += len(chunk)
                if size > max_bytes:
                    raise too_large
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise HttpCallError("http_timeout", "The response did not arrive in time.", retryable=True) from None
    except httpx.TransportError as exc:
        message = f"The response broke off: {transport_failure(exc)}"
        raise HttpCallError("http_connection_failed", message, retryable=True) from None
    except zlib.error:
        message = f"The response's {coding} encoding is broken."
        raise HttpCallError("http_connection_failed", message, retryable=True) from None
    return b"".join(chunks)
