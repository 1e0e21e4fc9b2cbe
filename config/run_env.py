"""What `make run` set up, for commands run beside it.

The launcher fills in development defaults (SECRET_KEY from var/secret_key, the embedded
Redis on a free port, `.env`, the emulator's URL) for the processes it starts. A
`manage.py` command typed in another terminal would not have them: it would miss the
secret key, queue its work on another Redis, and leave the web's cached users stale. So
the launcher writes them to var/run.env while it runs (removed when it stops), and
settings read that file first, never over a variable that is already set.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

FILE_NAME = "run.env"
# Not needed by a command, or not the launcher's to hand on.
_LEFT_OUT = {"PATH", "PYTHONUNBUFFERED", "FLOWER_BASIC_AUTH"}


def write(var_dir: Path, before: Mapping[str, str], after: Mapping[str, str]) -> Path:
    """Writes the variables the launcher added or changed, as `export NAME='value'` lines
    (a shell can source the file too), readable by the owner only."""
    path = var_dir / FILE_NAME
    lines = [f"# written by make run (process {os.getpid()}); removed when it stops", f"# pid {os.getpid()}"]
    for name in sorted(after):
        if name not in _LEFT_OUT and before.get(name) != after[name]:
            lines.append(f"export {name}={shlex.quote(after[name])}")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write("\n".join(lines) + "\n")
    return path


def remove(var_dir: Path) -> None:
    (var_dir / FILE_NAME).unlink(missing_ok=True)


def load(environ: dict[str, str] | os._Environ = os.environ) -> None:
    """Sets, where unset, the variables of a running launcher's var/run.env. A file whose
    launcher is gone (killed before it could remove it) is ignored."""
    if environ.get("SWITCHBOARD_TEST_RUN_ID"):
        return  # a test session sets up its own
    base = Path(__file__).resolve().parent.parent
    path = Path(environ.get("SWITCHBOARD_VAR_DIR") or base / "var") / FILE_NAME
    try:
        text = path.read_text()
    except OSError:
        return
    values: dict[str, str] = {}
    pid = None
    for line in text.splitlines():
        if line.startswith("# pid "):
            pid = int(line.removeprefix("# pid ").strip() or 0)
        elif line.startswith("export "):
            name, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
            values[name] = value
    if not pid or not _alive(pid):
        return
    for name, value in values.items():
        environ.setdefault(name, value)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
