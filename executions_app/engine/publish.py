"""Publishing node tasks. A node is published only after the transaction that made it
ready commits, so a worker never looks for a row it cannot see yet."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from config.celery import app

NODE_TASK = "workers.node_run"


@dataclass(frozen=True)
class Publish:
    node_run_id: int
    queue: str
    countdown: float | None = None


def publish_now(items: list[Publish]) -> None:
    for item in items:
        app.send_task(NODE_TASK, args=[item.node_run_id], queue=item.queue, countdown=item.countdown)


def publish_on_commit(items: list[Publish]) -> None:
    if items:
        transaction.on_commit(lambda: publish_now(items))
