"""A TCP forwarder in a thread of the test process: it listens on one address and pipes
every connection to a server listening elsewhere. The machine's PostgreSQL and Redis
listen on 127.0.0.1 only, out of reach of a network namespace; a forwarder on the
bridge's address (tests/support/netns.py) lets the namespace reach them without anyone
reconfiguring them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHUNK = 64 * 1024


class TcpForwarder:
    def __init__(self, listen_host: str, target: tuple[str, int]) -> None:
        self.listen_host, self.target = listen_host, target
        self.port = 0  # known once started
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="tcp-forwarder", daemon=True)
        self.server: asyncio.Server | None = None
        self.transports: set[asyncio.WriteTransport] = set()

    def start(self) -> TcpForwarder:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.forward, self.listen_host, 0), self.loop
        ).result(timeout=10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.transports |= {client_writer.transport, server_writer.transport}
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
        self.transports -= {client_writer.transport, server_writer.transport}

    def stop(self) -> None:
        async def shut() -> None:
            if self.server is not None:
                self.server.close()
            # abort, not close: a connection into a cut-off namespace never drains.
            for transport in list(self.transports):
                transport.abort()

        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(shut(), self.loop).result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies one direction until it ends, then ends the other too: neither PostgreSQL's
    nor Redis's protocol half-closes a connection."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        writer.transport.abort()
    else:
        writer.close()  # what is still buffered goes out first


@contextmanager
def forwarding(listen_host: str, target: tuple[str, int]) -> Iterator[TcpForwarder]:
    forwarder = TcpForwarder(listen_host, target).start()
    try:
        yield forwarder
    finally:
        forwarder.stop()
