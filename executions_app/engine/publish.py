"""Publishing node tasks. A node is published only after the transaction that made it
ready commits, so a worker never looks for a row it cannot see yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from config.celery import app

NODE_TASK = "workers.node_run"


@dataclass(frozen=True)
class Publish:
    node_run_id: int
    queue: str
    countdown: float | None = None
    # Celery's time limits are a backstop under the prefork pool; deadlines are enforced
    # in code first (SDK and HTTP timeouts, the node's deadline).
    time_limit: float | None = None


def publish_for(node_run_id: int, spec: Any) -> Publish:
    timeout_s = spec.timeout_s or settings.SWITCHBOARD["DEFAULT_NODE_TIMEOUT_S"]
    return Publish(node_run_id, spec.node.queue, time_limit=timeout_s + settings.SWITCHBOARD["LEASE_GRACE_S"])


def publish_now(items: list[Publish]) -> None:
    if not items:
        return
    # One producer for the lot, and the arguments' log text given rather than built by
    # Celery's saferepr: both are per-task costs on the hot path.
    with app.producer_or_acquire() as producer:
        for item in items:
            limits = {}
            if item.time_limit:
                limits = {"time_limit": item.time_limit, "soft_time_limit": item.time_limit - 5}
            # The lease (the hard limit) travels with the task so a worker can claim and read
            # the node in one statement (engine/run.py).
            kwargs = {"lease_s": item.time_limit} if item.time_limit else None
            app.send_task(
                NODE_TASK,
                args=[item.node_run_id],
                kwargs=kwargs,
                queue=item.queue,
                countdown=item.countdown,
                producer=producer,
                argsrepr=f"[{item.node_run_id}]",
                kwargsrepr=repr(kwargs or {}),
                **limits,
            )


def publish_on_commit(items: list[Publish]) -> None:
    if items:
        transaction.on_commit(lambda: publish_now(items))
