"""What one `make run` uses, decided before anything starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Launch:
    """What this run uses, decided before anything starts."""

    var_dir: Path
    bind: str
    web_port: int
    flower_port: int
    redis_port: int | None  # the embedded redis-server's port; None when REDIS_URL is set
    flower_credentials_generated: bool


class LaunchError(Exception):
    """Something the user can fix (a port in use, a weak admin password): printed, exit 1."""
