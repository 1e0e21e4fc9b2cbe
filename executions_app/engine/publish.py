"""Publishing node tasks. A node is published only after the transaction that made it
ready commits, so a worker never looks for a row it cannot see yet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from celery import current_app as app  # the project's app (config/celery.py), set current at start
from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection

from core import broker
from executions_app import events

logger = logging.getLogger(__name__)

NODE_TASK = "workers.node_run"


@dataclass(frozen=True)
class Publish:
    node_run_id: int
    queue: str
    countdown: float | None = None
    # Celery's time limits are a backstop under the prefork pool; deadlines are enforced
    # in code first (SDK and HTTP timeouts, the node's deadline).
    time_limit: float | None = None
    # What the task events (Flower) show of the task besides its node run id: the node's
    # type as the task's name, the node and its execution in the arguments' text.
    node_type: str = ""
    node_id: str = ""
    execution_id: Any = None


def run_timeout_s(spec: Any) -> float:
    """How long one run of the node may take (its lease, less the grace). A node that
    suspends may be given a timeout_s of days, which bounds its whole wait: each of its
    runs is short, and gets no more than the default node timeout."""
    default = settings.SWITCHBOARD.default_node_timeout_s
    timeout_s: float = spec.timeout_s or default
    return min(timeout_s, default) if spec.node.suspends else timeout_s


def publish_for(node_run_id: int, spec: Any, execution_id: Any) -> Publish:
    timeout_s = run_timeout_s(spec)
    return Publish(
        node_run_id,
        spec.node.queue,
        time_limit=timeout_s + settings.SWITCHBOARD.lease_grace_s,
        node_type=spec.type,
        node_id=spec.id,
        execution_id=execution_id,
    )


def task_name(item: Publish) -> str | None:
    """The name the task events give a node task (Celery's `shadow`): `node <TYPE>`. The
    node's id stays out of it, in the arguments' text: task names are what Flower
    filters and counts by, and there are a few node types but any number of node ids."""
    return f"node {item.node_type}" if item.node_type else None


def args_text(item: Publish) -> str:
    """The arguments as logs and task events show them: `[29] node slogan, execution <id>`."""
    if not item.node_id:
        return f"[{item.node_run_id}]"
    return f"[{item.node_run_id}] node {item.node_id}, execution {item.execution_id}"


def publish_now(items: list[Publish], producer: Any = None, retry: bool = True) -> None:
    if not items:
        return
    # One producer for the lot, and the arguments' log text given rather than built by
    # Celery's saferepr: both are per-task costs on the hot path. The task's name and
    # arguments text are built from what the item holds, for the task events (Flower).
    with app.producer_or_acquire(producer) as producer:
        for item in items:
            limits = {}
            if item.time_limit:
                limits = {"time_limit": item.time_limit, "soft_time_limit": item.time_limit - 5}
            # The lease (the hard limit) travels with the task so a worker can claim and read
            # the node in one statement (engine/node_run.py).
            kwargs = {"lease_s": item.time_limit} if item.time_limit else None
            app.send_task(
                NODE_TASK,
                args=[item.node_run_id],
                kwargs=kwargs,
                queue=item.queue,
                countdown=item.countdown,
                producer=producer,
                retry=retry,
                shadow=task_name(item),
                argsrepr=args_text(item),
                kwargsrepr=repr(kwargs or {}),
                **limits,
            )


def publish_on_commit(items: list[Publish], execution_events: tuple[Any, list[dict[str, Any]]] | None = None) -> None:
    """After commit: `execution_events` (an execution id and its events) are appended
    first, then the node tasks are published."""
    if execution_events and execution_events[1]:
        execution_id, node_events = execution_events
        transaction.on_commit(lambda: publish_after_events(items, execution_id, node_events))
    elif items:
        transaction.on_commit(lambda: publish_now(items))


def publish_after_events(items: list[Publish], execution_id: Any, node_events: list[dict[str, Any]]) -> None:
    """The events, then the node tasks they lead to, in one Redis round trip when the
    broker and the event streams share a Redis (the default): a node's completion costs
    one round trip less. Otherwise, or if that round trip fails, one after the other."""
    if items:
        with app.producer_or_acquire() as producer:
            channel = producer.channel
            if isinstance(channel, broker.Channel) and _same_redis(channel):
                try:
                    pipe = get_redis_connection("default").pipeline(transaction=False)
                    events.queue_events(pipe, execution_id, node_events)
                    # Without kombu's retry here: it would reconnect onto a new channel and
                    # send the rest at once, ahead of the events. A failure sends nothing
                    # from the pipeline; everything then goes out apart, in order.
                    with channel.publishing_into(pipe):
                        publish_now(items, producer, retry=False)
                    if producer.channel is not channel:
                        raise RuntimeError("the broker channel changed while publishing")
                    pipe.execute()
                    return
                except Exception:
                    logger.warning("could not send events and node tasks together; sending them apart", exc_info=True)
    events.emit_now(execution_id, node_events)
    publish_now(items)


_SAME_REDIS: dict[int, bool] = {}  # by broker connection pool


def _same_redis(channel: broker.Channel) -> bool:
    pool = channel.pool
    same = _SAME_REDIS.get(id(pool))
    if same is None:
        ours = get_redis_connection("default").connection_pool.connection_kwargs
        theirs = pool.connection_kwargs
        same = _SAME_REDIS[id(pool)] = all(theirs.get(k) == ours.get(k) for k in ("host", "port", "path", "db"))
    return same
