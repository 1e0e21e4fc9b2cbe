"""What `make run` does once every process is started: wait until everything answers (the
web, the provider emulator, a worker on every queue), run the demo (one-shot steps after
start-up, so not Procfile entries: honcho stops everything when an entry exits), then say
it is ready and print the banner again, so its links and the admin's password are the
last thing on the screen rather than lost above the processes' start-up logs."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 - our own http URLs
            return response.status == 200
    except OSError:
        return False


def announce_when_ready(
    url: str,
    started: float,
    *,
    banner: str,
    workers_answer: Callable[[float], bool],
    demo_base: str | None = None,
    also: tuple[str, ...] = (),
    stopping: Callable[[], bool] = lambda: False,
    timeout_s: float = 300,
) -> None:
    """Once `url` and every URL in `also` answer (the provider emulator's health, when it
    runs) and `workers_answer(seconds left)` says a worker answered on every queue, and
    the demo ran on `demo_base` (when given): prints one line saying so, then `banner`.
    Prints nothing once the launcher is `stopping`."""

    def run() -> None:
        time.sleep(1)  # honcho forks its entries first; no thread of ours runs during that
        waiting = [url, *also]
        while waiting and time.monotonic() - started < timeout_s:
            waiting = [address for address in waiting if not answers(address)]
            if waiting:
                time.sleep(0.5)
        demo = None
        if demo_base is not None and not waiting:
            # Beside the ping: its command needs a few seconds of start-up of its own.
            demo = threading.Thread(target=run_demo, args=(demo_base,), name="demo", daemon=True)
            demo.start()
        left = timeout_s - (time.monotonic() - started)
        if not waiting and not workers_answer(max(left, 1)):
            waiting.append("a worker on each queue (default, nodes, ai)")
        if demo is not None:
            demo.join()
        if stopping():
            return
        elapsed = time.monotonic() - started
        if waiting:
            said = f"Switchboard is not ready after {elapsed:.1f}s: no answer from {', '.join(waiting)}"
        else:
            said = f"Switchboard is ready after {elapsed:.1f}s: {url}, workers answering"
        print(said + "\n" + banner, flush=True)  # one write: nothing comes between them

    threading.Thread(target=run, name="announce-ready", daemon=True).start()


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
        f"on: user demo, 5 workflows, a webhook, a schedule, one run; {own} added to"
        " SWITCHBOARD_HTTP_ALLOWED_HOSTS, so any user's HTTP_REQUEST can reach this server"
        " (SWITCHBOARD_DEMO=0 turns both off)"
    )


def run_demo(base: str) -> None:
    """The demo user and workflows, then one demo execution once the workers answer a
    ping (`seed_demo --run --wait-workers`), its output printed under `demo:`."""
    command = [sys.executable, "manage.py", "seed_demo", "--run", "--wait-workers", "120", "--base-url", base]
    done = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, check=False)
    print(demo_report(done, base), flush=True)


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
