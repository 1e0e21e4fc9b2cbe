"""The time limits a definition sets: the execution's `timeout_s` (up to 30 days, for
workflows that wait) and each node's, which must fit in it (docs/concepts/suspension.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from workflows_app.problems import Problems


def execution_timeout(definition: dict[str, Any], problems: Problems) -> float:
    """The execution's time limit: the definition's timeout_s (up to max_suspend_s, for
    workflows that wait for days), else SWITCHBOARD_EXECUTION_TIMEOUT_S."""
    limits = settings.SWITCHBOARD
    value = definition.get("timeout_s")
    if value is None:
        return limits.execution_timeout_s
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= limits.max_suspend_s:
        message = f"timeout_s is a number of seconds above 0 and at most {limits.max_suspend_s:g} (30 days)"
        problems.add(None, ("timeout_s",), "invalid_timeout", message)
        return limits.execution_timeout_s
    return float(value)


def node_timeout(
    problems: Problems, execution_s: float, node_id: Any, loc: tuple[Any, ...], node_class: Any, timeout_s: float | None
) -> None:
    """A node's timeout_s fits in the execution's. A node that runs in a worker gets at
    most SWITCHBOARD_EXECUTION_TIMEOUT_S (its broker message stays unacknowledged that
    long); one that suspends (WAIT, APPROVAL) may wait as long as the workflow's
    timeout_s allows."""
    if timeout_s is None:
        return
    suspends = node_class is not None and node_class.suspends
    limit = execution_s if suspends else min(execution_s, settings.SWITCHBOARD.execution_timeout_s)
    if timeout_s > limit:
        whose = "the workflow's timeout_s" if suspends else "the execution's own limit"
        message = f"timeout_s may be at most {limit:g} ({whose})"
        problems.add(node_id, (*loc, "timeout_s"), "invalid_timeout", message)
