"""The least any engine that keeps the execution semantics (docs/architecture.md) can
cost per node on this machine.

A Celery chain like the bare one, whose every task also makes the two durable writes
the execution semantics ask of a node, as cheaply as PostgreSQL allows: the claim (a
conditional update that sets `running`, counts the attempt and sets a lease, checked by its result) and
the fenced completion that releases the next node, each one prepared, autocommitted
statement on a kept connection. No context, no expressions, no events: the engine's
chain node does all of that and more, so its cost can only be above this one.

Loaded into the bench's worker with `celery worker --include bench.design_floor`."""

from __future__ import annotations

from celery import shared_task

TABLE = "bench_design_floor"

CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, status text NOT NULL, "
    "attempts integer NOT NULL DEFAULT 0, lease_until timestamptz, output jsonb)"
)
CLAIM = (
    f"UPDATE {TABLE} SET status = 'running', attempts = attempts + 1, "
    "lease_until = now() + interval '5 minutes' WHERE id = %s AND status = 'ready' RETURNING attempts"
)
# Fenced by the attempt the claim counted; the next node is released only when the
# result was written (the engine's record_and_release, without its edges and counters).
COMPLETE_AND_RELEASE = (
    f"WITH done AS (UPDATE {TABLE} SET status = 'completed', output = %s::jsonb "
    "WHERE id = %s AND attempts = %s AND status = 'running' RETURNING 1) "
    f"UPDATE {TABLE} SET status = 'ready' WHERE id = %s AND EXISTS (SELECT 1 FROM done) RETURNING id"
)


def create_nodes(count: int) -> list[int]:
    """`count` node rows, the first ready, the rest waiting for their parent."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(CREATE)
        cursor.execute(
            f"INSERT INTO {TABLE} (status) SELECT CASE WHEN n = 1 THEN 'ready' ELSE 'pending' END "
            "FROM generate_series(1, %s) AS n ORDER BY n RETURNING id",
            [count],
        )
        return sorted(row[0] for row in cursor.fetchall())


@shared_task(name="bench.design_floor_step", ignore_result=True)
def design_floor_step(node_id: int, next_id: int | None = None, wake_key: str | None = None) -> None:
    # The engine's own prepared-statement cursor: the floor gets every saving the engine has.
    from executions_app.engine.storage import storage

    with storage().cursor() as cursor:
        cursor.execute(CLAIM, [node_id])
        claimed = cursor.fetchone()
        assert claimed is not None, f"design floor node {node_id} was not ready"
        cursor.execute(COMPLETE_AND_RELEASE, ['{"value": 1}', node_id, claimed[0], next_id or 0])
    if wake_key:
        from workers.tasks import ping

        ping(wake_key=wake_key)
