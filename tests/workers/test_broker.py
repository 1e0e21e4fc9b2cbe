"""The Redis broker transport (core/broker.py): kombu's, keeping one client per channel,
with publishes that can share a round trip with the caller's commands."""

from __future__ import annotations

import secrets

from django.conf import settings
from django_redis import get_redis_connection

from config.celery import app
from core import broker
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


def test_publishes_inside_publishing_into_ride_in_the_callers_pipeline_after_its_commands() -> None:
    queue = f"test-broker-{secrets.token_hex(3)}"
    marker = f"{settings.REDIS_KEY_PREFIX}:test-broker:{secrets.token_hex(3)}"
    redis = get_redis_connection("default")
    with app.connection_for_write() as connection, app.producer_or_acquire() as producer:
        inbox = connection.SimpleQueue(queue)
        try:
            pipe = redis.pipeline(transaction=False)
            pipe.set(marker, "before", ex=60)
            with producer.channel.publishing_into(pipe):
                app.send_task(NODE_TASK, args=[7], kwargs={"lease_s": 30}, queue=queue, producer=producer)
            # Nothing has left yet: the caller's command and the message wait for its one trip.
            assert redis.get(marker) is None
            assert redis.llen(app.conf.broker_transport_options["global_keyprefix"] + queue) == 0
            pipe.execute()
            assert redis.get(marker) == b"before"
            message = inbox.get(timeout=5)  # under the broker's key prefix, where workers look
            assert message.payload[0] == [7]
            message.ack()
        finally:
            redis.delete(marker)
            inbox.queue.delete()
            inbox.close()
