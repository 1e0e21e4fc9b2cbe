"""The Procfile's web entry (gunicorn's asgi worker), run as honcho runs it, for tests that
need the real web server in front of Django."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
from honcho.environ import parse_procfile

from development.embedded_redis import free_port
from tests.support.markers import require_marker
from tests.support.workers import ROOT, session_database_url, wait_for


def procfile_web() -> str:
    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)["web"]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def running_web(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The web entry on a free port and this session's test database (`sh -c`, as honcho
    runs it); yields its base URL and stops every process of it at the end."""
    require_marker("server", "starts gunicorn")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": session_database_url(),
        "SWITCHBOARD_BIND": "127.0.0.1",
        "SWITCHBOARD_PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra_env or {}),
    }
    log_path = ROOT / "var" / f"test-web-{secrets.token_hex(3)}.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            ["sh", "-c", procfile_web()],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert server.poll() is None, "gunicorn exited:\n" + log_path.read_text(errors="replace")[-5000:]
        try:
            httpx.get(f"{base}/api/auth/me", timeout=2)
        except httpx.TransportError:
            return False
        return True

    try:
        wait_for(answering, timeout=20, interval=0.1)
        yield base
    except BaseException:
        sys.stderr.write(log_path.read_text(errors="replace")[-5000:])
        raise
    finally:
        # SIGINT is gunicorn's quick shutdown, but a worker still waits for its stream threads,
        # which notice a departed client only at their next write (a keep-alive, up to 10 s).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=3)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        wait_for(lambda: not group_alive(server.pid), timeout=10, interval=0.1)
