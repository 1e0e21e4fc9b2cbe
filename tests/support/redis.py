"""A redis-server of a test's own, to stop, kill and start again at will."""

from __future__ import annotations

from pathlib import Path

from development import embedded_redis
from tests.support.markers import require_marker


class OwnRedis:
    """A redis-server of the test's own, to stop and start at will."""

    def __init__(self, data_dir: Path, *, persist: bool) -> None:
        require_marker("server", "starts a Redis server")
        self.port = embedded_redis.free_port()
        self.data_dir = data_dir
        self.persist = persist
        self.process = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = embedded_redis.start(self.port, self.data_dir, persist=self.persist)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        # SIGTERM: a clean shutdown that flushes the append-only file first.
        self.process.terminate()
        self.process.wait()
