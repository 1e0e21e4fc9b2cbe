"""Switchboard's own limits and timings (the SWITCHBOARD setting), read from the
environment like the rest of config/settings.py, which imports them from here."""

from __future__ import annotations

from typing import Any

from config.env import env_bool, env_float, env_int, env_list

# How often the beat sweeper runs (the schedule in config/settings.py reads it too).
SWEEP_INTERVAL_S = env_float("SWITCHBOARD_SWEEP_INTERVAL_S", 2)

# Typed as a plain dict, not a TypedDict: tests swap it whole with override_settings, and
# readers (the sweeper's limits()) hand it on as a dict[str, Any].
SWITCHBOARD: dict[str, Any] = {
    "MAX_NODES": env_int("SWITCHBOARD_MAX_NODES", 500),
    "MAX_EDGES": env_int("SWITCHBOARD_MAX_EDGES", 2000),
    "MAX_DEFINITION_BYTES": env_int("SWITCHBOARD_MAX_DEFINITION_BYTES", 1024 * 1024),
    "MAX_JSON_DEPTH": env_int("SWITCHBOARD_MAX_JSON_DEPTH", 32),
    # Each distinct template is compiled when a definition is checked (about 0.25 ms): caps
    # so that one 1 MB definition cannot hold a web thread for seconds.
    "MAX_TEMPLATES": env_int("SWITCHBOARD_MAX_TEMPLATES", 4_000),
    "MAX_TEMPLATE_CHARS": env_int("SWITCHBOARD_MAX_TEMPLATE_CHARS", 256 * 1024),
    "MAX_EXPRESSION_CHARS": env_int("SWITCHBOARD_MAX_EXPRESSION_CHARS", 10_000),
    "MAX_EXPRESSION_NODES": env_int("SWITCHBOARD_MAX_EXPRESSION_NODES", 1_000),
    "MAX_EXPRESSION_DEPTH": env_int("SWITCHBOARD_MAX_EXPRESSION_DEPTH", 32),  # nesting of one expression
    "MAX_RESULT_BYTES": env_int("SWITCHBOARD_MAX_RESULT_BYTES", 1024 * 1024),
    "MAX_NODE_OUTPUT_BYTES": env_int("SWITCHBOARD_MAX_NODE_OUTPUT_BYTES", 1024 * 1024),
    "MAX_WAIT_S": 60,
    "IDEMPOTENCY_TTL_S": 24 * 3600,
    "DEFAULT_NODE_TIMEOUT_S": env_float("SWITCHBOARD_NODE_TIMEOUT_S", 300),
    "EXECUTION_TIMEOUT_S": env_float("SWITCHBOARD_EXECUTION_TIMEOUT_S", 3600),
    "LEASE_GRACE_S": env_float("SWITCHBOARD_LEASE_GRACE_S", 30),
    # Claims a node may lose to a dying worker before it fails, whatever its retry policy:
    # a node is re-run after a SIGKILL even with max_attempts 1 (at least once).
    "WORKER_LOST_MAX_ATTEMPTS": env_int("SWITCHBOARD_WORKER_LOST_MAX_ATTEMPTS", 3),
    "EXECUTION_RETENTION_DAYS": env_int("SWITCHBOARD_EXECUTION_RETENTION_DAYS", 30),
    # Durability (docs/architecture.md, Execution semantics): worker heartbeats, and how the sweeper finds lost work.
    "HEARTBEAT_INTERVAL_S": env_float("SWITCHBOARD_HEARTBEAT_INTERVAL_S", 2),
    "HEARTBEAT_TTL_S": env_float("SWITCHBOARD_HEARTBEAT_TTL_S", 6),
    "SWEEP_INTERVAL_S": SWEEP_INTERVAL_S,
    "SWEEP_STALE_READY_S": env_float("SWITCHBOARD_SWEEP_STALE_READY_S", 10),
    "SWEEP_BATCH": env_int("SWITCHBOARD_SWEEP_BATCH", 500),
    "ENGINE_SYNCHRONOUS_COMMIT": env_bool("SWITCHBOARD_ENGINE_SYNCHRONOUS_COMMIT", False),
    # The engine's per-node statements prepared once per connection (engine/storage/postgres.py); off
    # behind a transaction-mode pooler that cannot keep prepared statements.
    "ENGINE_PREPARED_STATEMENTS": env_bool("SWITCHBOARD_DB_PREPARED_STATEMENTS", True),
    # Longest life of one GET /api/executions/{id}/events stream; the client resumes after.
    "EVENTS_MAX_S": env_float("SWITCHBOARD_EVENTS_MAX_S", 300),
    # Event streams one user may hold open at once (each holds a gunicorn thread); 0: no cap.
    "EVENTS_MAX_STREAMS_PER_USER": env_int("SWITCHBOARD_EVENTS_MAX_STREAMS_PER_USER", 4),
    # Outside calls and records (README "Reaching outside"). Allowed hosts are `host:port`
    # entries opened even when they resolve to non-global addresses.
    "HTTP_ALLOWED_HOSTS": env_list("SWITCHBOARD_HTTP_ALLOWED_HOSTS"),
    "HTTP_TIMEOUT_S": env_float("SWITCHBOARD_HTTP_TIMEOUT_S", 30),
    "HTTP_MAX_RESPONSE_BYTES": env_int("SWITCHBOARD_HTTP_MAX_RESPONSE_BYTES", 1024 * 1024),
    "HTTP_MAX_REDIRECTS": env_int("SWITCHBOARD_HTTP_MAX_REDIRECTS", 5),
    "HTTP_MAX_RETRY_AFTER_S": env_float("SWITCHBOARD_HTTP_MAX_RETRY_AFTER_S", 60),
    # Comma-separated Fernet keys, newest first; unset: one derived from SECRET_KEY.
    "CREDENTIALS_KEYS": env_list("SWITCHBOARD_CREDENTIALS_KEY"),
    "RECORDS_MAX_FIND": env_int("SWITCHBOARD_RECORDS_MAX_FIND", 1000),
    "RECORDS_MAX_UPDATE": env_int("SWITCHBOARD_RECORDS_MAX_UPDATE", 10_000),
    "RECORD_MAX_BYTES": env_int("SWITCHBOARD_RECORD_MAX_BYTES", 256 * 1024),
}
