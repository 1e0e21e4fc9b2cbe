"""What one attempt of a node produced, as the completion records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What one attempt of a node produced."""

    status: str  # NodeRunStatus.COMPLETED or NodeRunStatus.FAILED
    output: Any = None
    error: dict[str, Any] | None = None
    continue_on_error: bool = False
    attempt_entries: list[dict[str, Any]] = field(default_factory=list)
