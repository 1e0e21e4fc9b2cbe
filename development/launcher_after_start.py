"""What `make run` does once every process is started: say when the web answers, and run
the demo (one-shot steps after start-up, so not Procfile entries: honcho stops
everything when an entry exits)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping, MutableMapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def announce_when_ready(url: str, started: float, timeout_s: float = 300, also: tuple[str, ...] = ()) -> None:
    """Prints one line when the web answers, and every URL in `also` too (the provider
    emulator's health, when it runs), so the user knows when the banner's links work."""

    def answers(address: str) -> bool:
        try:
            with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 - our own http URLs
                return response.status == 200
        except OSError:
            return False

    def poll() -> None:
        time.sleep(1)  # honcho forks its entries first; no thread of ours runs during that
        waiting = [url, *also]
        while time.monotonic() - started < timeout_s:
            waiting = [address for address in waiting if not answers(address)]
            if not waiting:
                print(f"Switchboard is ready after {time.monotonic() - started:.1f}s: {url}", flush=True)
                return
            time.sleep(0.5)

    threading.Thread(target=poll, name="announce-ready", daemon=True).start()


def demo_enabled(env: Mapping[str, str]) -> bool:
    """`make run` runs the demo unless SWITCHBOARD_DEMO=0."""
    return env.get("SWITCHBOARD_DEMO", "1").strip() != "0"


def allow_demo_endpoint(web_port: int, env: MutableMapping[str, str]) -> str:
    """With the demo on, the content pipeline calls this server's own /metrics, so
    127.0.0.1:<web port> joins SWITCHBOARD_HTTP_ALLOWED_HOSTS: every user's HTTP_REQUEST
    nodes can then reach this server, which is why it happens only with the demo on.
    Returns the banner's line about it."""
    if not demo_enabled(env):
        return "off (SWITCHBOARD_DEMO=0); HTTP_REQUEST nodes reach only public hosts and SWITCHBOARD_HTTP_ALLOWED_HOSTS"
    own = f"127.0.0.1:{web_port}"
    env.setdefault("SWITCHBOARD_DEMO_HTTP_URL", f"http://{own}/metrics")
    allowed = [h for h in env.get("SWITCHBOARD_HTTP_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if own not in allowed:
        env["SWITCHBOARD_HTTP_ALLOWED_HOSTS"] = ",".join([*allowed, own])
    return (
        f"on: user demo, 3 workflows, one run; {own} added to SWITCHBOARD_HTTP_ALLOWED_HOSTS, so any"
        " user's HTTP_REQUEST can reach this server (SWITCHBOARD_DEMO=0 turns both off)"
    )


def run_demo_when_ready(base: str, started: float, timeout_s: float = 300) -> None:
    """After the web answers: the demo user and workflows, then one demo execution once
    the workers answer a ping (a one-shot step, so not a Procfile entry)."""

    def run() -> None:
        time.sleep(1)  # honcho forks its entries first; no thread of ours runs during that
        while time.monotonic() - started < timeout_s:
            try:
                with urllib.request.urlopen(base + "/api/docs", timeout=10):  # noqa: S310 - our own http URL
                    break
            except OSError:
                time.sleep(0.5)
        command = [sys.executable, "manage.py", "seed_demo", "--run", "--wait-workers", "120"]
        done = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, check=False)
        print(demo_report(done, base), flush=True)

    threading.Thread(target=run, name="demo", daemon=True).start()


def demo_report(done: subprocess.CompletedProcess[str], base: str) -> str:
    """What the demo command printed, under `demo:`."""
    if done.returncode == -signal.SIGINT:
        # Ctrl-C reaches the terminal's whole process group, this command too: its
        # KeyboardInterrupt traceback would look like a crash.
        return "  demo: stopped by Ctrl-C before it was done"
    report = ("\n" + (done.stdout + done.stderr).rstrip()).replace("\n", "\n  demo: ")
    if done.returncode == 0:
        report += f"\n  demo: see it on {base}/dashboard/ and {base}/admin/executions_app/execution/"
    return report
