"""What `make run` set up, for commands run beside it.

The launcher fills in development defaults (SECRET_KEY from var/secret_key, the embedded
Redis on a free port, `.env`, the emulator's URL) for the processes it starts. A
`manage.py` command typed in another terminal would not have them: it would miss the
secret key, queue its work on another Redis, and leave the web's cached users stale. So
the launcher writes them to var/run.env while it runs, and settings read that file for
every variable that is unset or empty.

The file counts only while its launcher runs: the launcher holds an exclusive lock on
var/run.lock for its whole life, which the system drops however it ends (Ctrl-C, a closed
terminal, SIGKILL). A file without a live lock is left alone, so a stale one can never
hand its secret key or ports to anything started later.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # not on Windows: no file, no loading
    fcntl = None  # type: ignore[assignment]

FILE_NAME, LOCK_NAME = "run.env", "run.lock"
# Set in the launcher and so in everything it starts: they have the values already.
MARKER = "SWITCHBOARD_LAUNCHED"
# Not needed by a command, or not the launcher's to hand on.
_LEFT_OUT = {"PATH", "PYTHONUNBUFFERED", "FLOWER_BASIC_AUTH", MARKER}
logger = logging.getLogger(__name__)


def hold_lock(var_dir: Path) -> IO | None:
    """Takes the launcher's lock for as long as the returned file stays open; None when
    another launcher holds it (that one's run.env stays)."""
    if fcntl is None:
        return None
    lock = (var_dir / LOCK_NAME).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None
    return lock


def write(var_dir: Path, before: Mapping[str, str], after: Mapping[str, str]) -> Path:
    """The variables the launcher added or changed, as JSON readable by the owner only,
    written whole (a temporary file renamed over the old one)."""
    values = {name: value for name, value in after.items() if name not in _LEFT_OUT and before.get(name) != value}
    path = var_dir / FILE_NAME
    descriptor, temporary = tempfile.mkstemp(dir=var_dir, prefix=".run.env.")  # mode 0600
    with os.fdopen(descriptor, "w") as file:
        json.dump({"written_by": "make run", "environment": values}, file, indent=1)
    os.replace(temporary, path)
    return path


def remove(var_dir: Path) -> None:
    (var_dir / FILE_NAME).unlink(missing_ok=True)


def load(environ: dict[str, str] | os._Environ = os.environ) -> None:
    """Fills in, where unset or empty, the variables of the running launcher's run.env."""
    if fcntl is None or environ.get("SWITCHBOARD_TEST_RUN_ID") or environ.get(MARKER):
        return  # a test session sets up its own; the launcher's processes have them
    base = Path(__file__).resolve().parent.parent
    var_dir = Path(environ.get("SWITCHBOARD_VAR_DIR") or base / "var")
    if not _launcher_running(var_dir / LOCK_NAME):
        return
    try:
        values = json.loads((var_dir / FILE_NAME).read_text())["environment"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("%s is not readable (%s); it is ignored", var_dir / FILE_NAME, exc)
        return
    for name, value in values.items():
        if isinstance(value, str) and not environ.get(name):
            environ[name] = value


def _launcher_running(lock_path: Path) -> bool:
    """Whether a launcher holds the lock: a shared lock we can take means none does."""
    try:
        lock = lock_path.open("a")
    except OSError:
        return False
    with contextlib.closing(lock):
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False
