"""`make run` (`python -m development.launcher`): all of Switchboard on one machine, from a
fresh clone, with nothing else running.

1. Development defaults: `.env` is read if present (the environment wins); SECRET_KEY is
   generated once and kept in var/secret_key; secure cookies are off because this serves
   plain http on localhost; with no REDIS_URL an embedded redis-server gets a free port.
2. One-shot steps (migrate, the admin user) run here, before anything long-lived starts:
   honcho stops every entry when one exits, so they can never be Procfile entries.
3. The Procfile's entries run through honcho's Manager, given programmatically (no
   generated Procfile): the embedded redis-server is added as one more entry, and every
   other entry waits for Redis first (`development.wait_for_redis`, which then becomes the
   entry's command), since honcho starts all entries at the same moment.
4. A banner names every URL, the database and Redis in use (passwords redacted) and the
   credentials made for this run (a generated admin password is kept in
   var/admin_credentials too); it comes again once everything answers, workers included
   (launcher_after_start.py). Ctrl-C or SIGTERM stops every process, in order
   (development/launcher_stop.py): web, beat and Flower; then the workers, which finish
   the nodes they run (killed after SWITCHBOARD_WORKER_STOP_S); then Redis and the
   provider emulator.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import socket
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path

from honcho.environ import parse as parse_dotenv
from honcho.environ import parse_procfile

from config import run_env
from development import embedded_redis
from development.launch import Launch, LaunchError
from development.launcher_after_start import allow_demo_endpoint, announce_when_ready, demo_enabled
from development.launcher_banner import PROVIDER_KEYS, banner, url_host
from development.launcher_steps import run_one_shot_steps
from development.launcher_stop import OrderedManager, Stage

BASE_DIR = Path(__file__).resolve().parent.parent
PROCFILE = BASE_DIR / "Procfile"


def stored_secret_key(var_dir: Path) -> str:
    """A SECRET_KEY made once and kept (mode 0600), so sessions and tokens survive restarts."""
    path = var_dir / "secret_key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
    path.chmod(0o600)
    return path.read_text().strip()


def port_from_env(env: MutableMapping[str, str], name: str, default: int) -> int:
    value = env.get(name) or str(default)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise LaunchError(f"{name}={value!r} is not a TCP port")
    return int(value)


def ensure_port_free(bind: str, port: int, name: str) -> None:
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    with socket.socket(family) as sock:
        # As gunicorn does: a socket lingering in TIME_WAIT does not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((bind, port))
        except OSError as exc:
            raise LaunchError(f"cannot listen on {bind}:{port} ({exc.strerror}); set {name} to another port") from None


def prepare(env: MutableMapping[str, str]) -> Launch:
    """Fills in the development defaults in env (os.environ: the entries inherit it)."""
    dotenv = BASE_DIR / ".env"
    if dotenv.exists():
        for name, value in parse_dotenv(dotenv.read_text()).items():
            env.setdefault(name, value)
    # Absolute, so every entry agrees whatever its working directory.
    var_dir = Path(env.get("SWITCHBOARD_VAR_DIR") or BASE_DIR / "var").resolve()
    # static/ is STATIC_ROOT: whitenoise warns on every start when it is missing, even
    # though it serves the apps' files from their finders without a collectstatic step.
    (var_dir / "static").mkdir(parents=True, exist_ok=True)
    env["SWITCHBOARD_VAR_DIR"] = str(var_dir)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONUNBUFFERED"] = "1"  # lines reach honcho's output as they are written
    # The entries' gunicorn and celery are this environment's, activated or not.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = stored_secret_key(var_dir)
    if not env.get("SWITCHBOARD_SECURE_COOKIES"):
        # Browsers never send Secure cookies back over plain http: with them on, logging in
        # to the admin at http://127.0.0.1 would fail the CSRF check. Behind TLS, set it to 1.
        env["SWITCHBOARD_SECURE_COOKIES"] = "0"

    bind = env.get("SWITCHBOARD_BIND") or "127.0.0.1"
    web_port = port_from_env(env, "SWITCHBOARD_PORT", 8000)
    flower_port = port_from_env(env, "SWITCHBOARD_FLOWER_PORT", 5555)
    if web_port == flower_port:
        raise LaunchError("SWITCHBOARD_PORT and SWITCHBOARD_FLOWER_PORT must differ")
    ensure_port_free(bind, web_port, "SWITCHBOARD_PORT")
    ensure_port_free(bind, flower_port, "SWITCHBOARD_FLOWER_PORT")
    env.update(SWITCHBOARD_BIND=bind, SWITCHBOARD_PORT=str(web_port), SWITCHBOARD_FLOWER_PORT=str(flower_port))

    redis_port = None
    if not env.get("REDIS_URL"):
        redis_port = embedded_redis.free_port()
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"

    generated = not env.get("FLOWER_BASIC_AUTH")
    if generated:
        env["FLOWER_BASIC_AUTH"] = f"flower:{secrets.token_urlsafe(12)}"
    elif ":" not in env["FLOWER_BASIC_AUTH"]:
        raise LaunchError("FLOWER_BASIC_AUTH must be user:password")
    return Launch(var_dir, bind, web_port, flower_port, redis_port, generated)


def provider_emulator_entries(env: MutableMapping[str, str]) -> dict[str, str]:
    """With no provider key (docs/operations/deployment.md), the provider emulator runs as one more entry and
    SWITCHBOARD_EMULATOR_URL points every provider without a key at it; results then say
    `"emulated": true`. Nothing is added while `manage.py provider_emulator` is absent, or
    when SWITCHBOARD_EMULATOR_URL names an emulator that runs elsewhere."""
    if any(env.get(name) for name in PROVIDER_KEYS) or env.get("SWITCHBOARD_EMULATOR_URL"):
        return {}
    from django.core.management import get_commands

    if "provider_emulator" not in get_commands():
        return {}
    port = embedded_redis.free_port()
    env["SWITCHBOARD_EMULATOR_URL"] = f"http://127.0.0.1:{port}"
    return {"emulator": f"exec {shlex.quote(sys.executable)} manage.py provider_emulator --port {port}"}


def process_entries(launch: Launch, env: MutableMapping[str, str]) -> dict[str, str]:
    """The Procfile's entries, each waiting for Redis, plus the embedded extras."""
    entries: dict[str, str] = {}
    if launch.redis_port is not None:
        command = embedded_redis.server_command(launch.redis_port, launch.var_dir / "redis", persist=True)
        entries["redis"] = "exec " + shlex.join(command)
    entries.update(provider_emulator_entries(env))
    # The wait becomes the Procfile line's shell, which execs the program: one process per
    # entry, so the stop signal reaches the program itself (launcher_stop.py).
    wait = f"exec {shlex.quote(sys.executable)} -m development.wait_for_redis sh -c"
    for name, command in parse_procfile(PROCFILE.read_text()).processes.items():
        entries[name] = f"{wait} {shlex.quote(command)}"
    return entries


def stop_order(env: MutableMapping[str, str]) -> list[Stage]:
    """Who stops when on Ctrl-C: what makes work first (the web takes requests, beat sends
    sweeps, Flower asks the workers), then the workers (a warm shutdown: they take no new
    task, finish the ones they run and hand back what they hold, which needs Redis), then
    what they need until their last moment: Redis, the provider emulator."""
    value = env.get("SWITCHBOARD_WORKER_STOP_S") or "30"
    try:
        worker_stop_s = float(value)
    except ValueError:
        worker_stop_s = -1.0
    if not worker_stop_s >= 0:
        raise LaunchError(f"SWITCHBOARD_WORKER_STOP_S={value!r} is not a number of seconds")
    return [
        Stage(("web", "beat", "flower"), limit_s=10),
        Stage(("worker", "ai-worker"), limit_s=worker_stop_s),
        Stage(("emulator", "redis"), limit_s=10),
    ]


def workers_answer(timeout_s: float) -> bool:
    """True once a worker answered a ping on every queue (through the broker, as a node
    task goes)."""
    from core.liveness import ping_workers

    try:
        return ping_workers(("default", "nodes", "ai"), timeout=timeout_s)
    except Exception:  # Redis went away (the launcher is stopping): not ready, and no traceback
        return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    started = time.monotonic()
    # Until honcho takes over the signals, SIGTERM stops the launcher the way Ctrl-C does
    # (the one-shot steps' Redis is stopped on the way out).
    signal.signal(signal.SIGTERM, _interrupt)
    before = dict(os.environ)
    os.environ[run_env.MARKER] = "1"  # this process and its entries never read a run.env
    lock = None
    try:
        launch = prepare(os.environ)
        demo = allow_demo_endpoint(launch.web_port, os.environ)
        steps = {**run_one_shot_steps(launch), "demo": demo}
        entries = process_entries(launch, os.environ)
        stages = stop_order(os.environ)
        lock = run_env.hold_lock(launch.var_dir)
        if lock is not None:  # else another launcher on this var/ keeps its own file
            run_env.write(launch.var_dir, before, os.environ)
        shown = banner(launch, os.environ, steps, entries)
        print(shown, flush=True)
        manager = OrderedManager(stages)
        for name, command in entries.items():
            manager.add_process(name, command, cwd=str(BASE_DIR))
        web = f"http://{url_host(launch.bind)}:{launch.web_port}"
        emulator = os.environ.get("SWITCHBOARD_EMULATOR_URL") if "emulator" in entries else None
        announce_when_ready(
            f"{web}/api/docs",
            started,
            banner=shown,  # again once ready: by then the processes' start-up logs pushed it away
            workers_answer=workers_answer,
            demo_base=web if demo_enabled(os.environ) else None,
            also=(f"{emulator}/_emulator/health",) if emulator else (),
            stopping=lambda: manager.stopping,
        )
        manager.loop()
    except LaunchError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if lock is not None:
            run_env.remove(launch.var_dir)
            lock.close()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
