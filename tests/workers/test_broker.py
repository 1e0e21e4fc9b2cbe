"""The Redis broker transport (config/broker.py): kombu's, keeping one client per channel."""

from __future__ import annotations

import secrets

from config import broker
from config.celery import app
from executions_app.engine.publish import NODE_TASK


def test_node_tasks_go_through_one_redis_client_and_arrive_as_published() -> None:
    queue = f"test-broker-{secrets.token_hex(3)}"  # no worker consumes it
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)
        with app.producer_or_acquire() as producer:
            for node_run_id in (41, 42):
                app.send_task(NODE_TASK, args=[node_run_id], kwargs={"lease_s": 30}, queue=queue, producer=producer)
            with producer.channel.conn_or_acquire() as first, producer.channel.conn_or_acquire() as second:
                assert first is second
        inbox = connection.SimpleQueue(queue)
        try:
            received = [inbox.get(timeout=5) for _ in range(2)]
            assert [m.headers["task"] for m in received] == [NODE_TASK, NODE_TASK]
            assert [m.payload[0] for m in received] == [[41], [42]]
            assert [m.payload[1] for m in received] == [{"lease_s": 30}, {"lease_s": 30}]
            for message in received:
                message.ack()
        finally:
            inbox.queue.delete()
            inbox.close()
