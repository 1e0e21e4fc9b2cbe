"""A node's events and the node tasks they lead to: one Redis round trip when the broker
shares the events' Redis, and still every event, then every task, when that fails."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest
from kombu.exceptions import OperationalError

from config.celery import app
from executions_app import events
from executions_app.engine import publish
from executions_app.engine.publish import NODE_TASK, Publish


@pytest.fixture
def inbox() -> Any:
    queue = f"test-publish-{secrets.token_hex(3)}"  # no worker consumes it
    with app.connection_for_write() as connection:
        box = connection.SimpleQueue(queue)
        box.name = queue
        try:
            yield box
        finally:
            box.queue.delete()
            box.close()


def received(box: Any, count: int) -> list[int]:
    messages = [box.get(timeout=5) for _ in range(count)]
    for message in messages:
        message.ack()
    with pytest.raises(box.Empty):  # nothing more than expected
        box.get_nowait()
    return [message.payload[0][0] for message in messages]


def test_events_and_node_tasks_leave_together_in_order(inbox) -> None:
    execution_id = uuid.uuid4()
    node_events = [events.node_event("a", "running"), events.node_event("a", "completed")]

    publish.publish_after_events([Publish(11, inbox.name), Publish(12, inbox.name)], execution_id, node_events)

    assert [e["status"] for _, e in events.read(execution_id, "0", None)] == ["running", "completed"]
    assert sorted(received(inbox, 2)) == [11, 12]


def test_a_broker_failure_in_the_shared_trip_still_sends_every_event_then_every_task(inbox, monkeypatch) -> None:
    # The first publish (the shared trip, which does not retry) fails as an unreachable
    # broker does; nothing of that trip may leave, and the apart path sends it all.
    real_send = app.send_task
    failures = []

    def flaky_send(name: str, *args: Any, **options: Any) -> Any:
        if options.get("retry") is False and not failures:
            failures.append(name)
            raise OperationalError("broker unreachable")
        return real_send(name, *args, **options)

    monkeypatch.setattr(app, "send_task", flaky_send)
    execution_id = uuid.uuid4()

    publish.publish_after_events([Publish(21, inbox.name)], execution_id, [events.node_event("a", "completed")])

    assert failures == [NODE_TASK]
    assert [e["status"] for _, e in events.read(execution_id, "0", None)] == ["completed"]  # once
    assert received(inbox, 1) == [21]  # once


def test_a_node_task_is_named_by_its_node_type_and_its_arguments_name_node_and_execution(inbox) -> None:
    """What the task events (Flower) show: `node <TYPE>`, not `workers.node_run` with `[31]`."""
    execution_id = uuid.uuid4()
    item = Publish(
        31, inbox.name, time_limit=40.0, node_type="AI_PROCESSOR", node_id="slogan", execution_id=execution_id
    )

    publish.publish_now([item])

    message = inbox.get(timeout=5)
    message.ack()
    assert message.headers["task"] == NODE_TASK  # what the worker runs is unchanged
    assert message.headers["shadow"] == "node AI_PROCESSOR"
    assert message.headers["argsrepr"] == f"[31] node slogan, execution {execution_id}"
    assert message.payload[0] == [31]
