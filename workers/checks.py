"""Start-up checks on worker timing settings that must agree with each other (registered by
the workers app, so `manage.py check`, runserver, migrate and the launcher all run them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from executions_app.engine.backoff import longest_backoff_s


def longest_unacked_s() -> float:
    """How long a node message can stay unacknowledged: a retry waits its countdown in a
    worker (max backoff), then runs up to its hard limit (a node's timeout_s, at most the
    execution's, plus the lease grace)."""
    limits = settings.SWITCHBOARD
    longest_timeout = max(limits.execution_timeout_s, limits.default_node_timeout_s)
    return longest_timeout + limits.lease_grace_s + longest_backoff_s()


@register()
def check_heartbeat_timing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A heartbeat must outlive at least two of its intervals: a worker whose key expires
    between beats is taken for dead, and its running nodes are taken over while it still
    runs them (run twice)."""
    limits = settings.SWITCHBOARD
    interval, ttl = limits.heartbeat_interval_s, int(limits.heartbeat_ttl_s)  # the key's TTL is whole seconds
    if ttl >= 2 * interval and ttl >= 1:
        return []
    return [
        Error(
            f"SWITCHBOARD_HEARTBEAT_TTL_S ({ttl:g} s) must be at least 1 s and twice "
            f"SWITCHBOARD_HEARTBEAT_INTERVAL_S ({interval:g} s).",
            hint="Live workers would be taken for dead between two beats, and their nodes run twice.",
            id="config.E003",
        )
    ]


@register()
def check_visibility_timeout(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With ack emulation on, the broker redelivers a message still unacknowledged after
    visibility_timeout: a running or waiting node would then run twice (docs/architecture.md,
    Execution semantics). With it off (the default) the broker redelivers nothing, and the
    sweeper recovers lost work."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    if not options.get("ack_emulation", True):  # kombu's default is on
        return []
    visibility = options.get("visibility_timeout", 3600)
    needed = longest_unacked_s()
    if float(visibility) > needed:
        return []
    return [
        Error(
            f"The broker's visibility_timeout ({visibility:g} s) is not above the longest node hard limit "
            f"plus the longest backoff ({needed:g} s): the broker would redeliver messages still in use.",
            hint=f"Set SWITCHBOARD_VISIBILITY_TIMEOUT_S above {needed:g}, or lower SWITCHBOARD_EXECUTION_TIMEOUT_S, "
            "SWITCHBOARD_NODE_TIMEOUT_S or SWITCHBOARD_LEASE_GRACE_S, or leave SWITCHBOARD_BROKER_ACK_EMULATION off.",
            id="config.E001",
        )
    ]
