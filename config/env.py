"""Reading settings from the environment (os.environ unless another mapping is given): an
unset or empty variable gives the default."""

from __future__ import annotations

import os
from collections.abc import Mapping


def env_bool(name: str, default: bool = False, env: Mapping[str, str] = os.environ) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, env: Mapping[str, str] = os.environ) -> int:
    value = env.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float, env: Mapping[str, str] = os.environ) -> float:
    value = env.get(name)
    return float(value) if value not in (None, "") else default


def env_str(name: str, default: str = "", env: Mapping[str, str] = os.environ) -> str:
    return env.get(name) or default


def env_list(name: str, default: str = "", env: Mapping[str, str] = os.environ) -> list[str]:
    return [item.strip() for item in env_str(name, default, env).split(",") if item.strip()]
