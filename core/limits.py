"""Switchboard's own limits and timings: one frozen object, `settings.SWITCHBOARD`, made
from the environment by a pure function (limits_from_env), so a test builds one from a
dict instead of starting a process, and a reader gets a typed attribute, not a string key.
Every field can be set as SWITCHBOARD_<FIELD> except those in FIXED; a few keep the
older names in ENV_NAMES. An unset or empty variable gives the default."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Limits:
    # Definitions
    max_nodes: int = 500
    max_edges: int = 2000
    max_definition_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    # Each distinct template is compiled when a definition is checked (about 0.25 ms): caps
    # so that one 1 MB definition cannot hold a web thread for seconds.
    max_templates: int = 4_000
    max_template_chars: int = 256 * 1024
    max_expression_chars: int = 10_000
    max_expression_nodes: int = 1_000
    max_expression_depth: int = 32  # nesting of one expression
    # Results
    max_result_bytes: int = 1024 * 1024
    max_node_output_bytes: int = 1024 * 1024
    # Executions
    max_wait_s: float = 60
    idempotency_ttl_s: int = 24 * 3600
    default_node_timeout_s: float = 300
    execution_timeout_s: float = 3600
    lease_grace_s: float = 30
    # Claims a node may lose to a dying worker before it fails, whatever its retry policy:
    # a node is re-run after a SIGKILL even with max_attempts 1 (at least once).
    worker_lost_max_attempts: int = 3
    # Suspension (docs/concepts/suspension.md): the longest an execution, or a node that
    # suspends, may be given (timeout_s); a WAIT this short or shorter sleeps in the worker
    # (suspending costs more than it saves); a retry backoff longer than this waits as a
    # durable timer, not as a countdown held by the broker and the worker.
    max_suspend_s: float = 30 * 24 * 3600
    wait_inline_max_s: float = 5
    retry_countdown_max_s: float = 5
    # Calls nest (SUBWORKFLOW, MAP) at most this deep; a MAP takes at most map_max_items.
    max_call_depth: int = 8
    map_max_items: int = 10_000
    execution_retention_days: int = 30
    # Durability (docs/architecture.md, Durability): worker heartbeats, and how the
    # sweeper finds lost work.
    heartbeat_interval_s: float = 2
    heartbeat_ttl_s: float = 6
    sweep_interval_s: float = 2
    sweep_stale_ready_s: float = 10
    sweep_batch: int = 500
    engine_synchronous_commit: bool = False
    # The engine's per-node statements prepared once per connection
    # (engine/storage/postgres.py); off behind a transaction-mode pooler that cannot keep
    # prepared statements.
    engine_prepared_statements: bool = True
    # Requests: a longer query string is a JSON 414 (core/query_string.py); kept below
    # gunicorn's request line (4,094 bytes), which it refuses with an HTML 414 of its own.
    max_query_string_bytes: int = 2048
    # Longest life of one GET /api/executions/{id}/events stream; the client resumes after.
    events_max_s: float = 300
    # Event streams one user may hold open at once (each holds a web thread); 0: no cap.
    events_max_streams_per_user: int = 4
    # Outside calls (docs/concepts/workflows.md). Allowed hosts are `host:port` entries
    # opened even when they resolve to non-global addresses.
    http_allowed_hosts: tuple[str, ...] = ()
    http_timeout_s: float = 30
    http_max_response_bytes: int = 1024 * 1024
    http_max_redirects: int = 5
    http_max_retry_after_s: float = 60
    # Comma-separated Fernet keys, newest first; unset: one derived from SECRET_KEY.
    credentials_keys: tuple[str, ...] = ()
    # Record collections (the DATABASE node)
    records_max_find: int = 1000
    records_max_update: int = 10_000
    record_max_bytes: int = 256 * 1024
    # Sync webhook deliveries waiting for their outputs, each holding a web thread: at
    # most this many per web process, and per hook owner across processes (so strangers
    # calling one owner's hooks cannot take every thread). Beyond either: 202 at once.
    hook_sync_waits_per_process: int = 4
    hook_sync_waits_per_owner: int = 8
    # Schedules (triggers_app/schedules/clock.py): the clock sleeps until the next due
    # schedule but never longer than this, and claims at most clock_batch schedules per
    # transaction.
    clock_interval_s: float = 0.5
    clock_batch: int = 100


# Variables whose names are not SWITCHBOARD_<FIELD>.
ENV_NAMES = {
    "default_node_timeout_s": "SWITCHBOARD_NODE_TIMEOUT_S",
    "engine_prepared_statements": "SWITCHBOARD_DB_PREPARED_STATEMENTS",
    "credentials_keys": "SWITCHBOARD_CREDENTIALS_KEY",
}
# Fields no variable sets.
FIXED = frozenset({"max_wait_s", "idempotency_ttl_s"})


def parse_bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def parse_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


# By the field's annotation (a string: annotations are not evaluated here).
PARSERS: dict[str, Callable[[str], object]] = {
    "int": int,
    "float": float,
    "bool": parse_bool,
    "tuple[str, ...]": parse_list,
}


def env_name(field_name: str) -> str:
    return ENV_NAMES.get(field_name, f"SWITCHBOARD_{field_name.upper()}")


def limits_from_env(env: Mapping[str, str]) -> Limits:
    """The limits `env` sets, the defaults for the rest. Raises ValueError naming the
    variable whose value is not of its field's type."""
    values: dict[str, object] = {}
    for field in fields(Limits):
        if field.name in FIXED:
            continue
        name = env_name(field.name)
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[field.name] = PARSERS[str(field.type)](raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not a valid {field.type}") from None
    return Limits(**values)  # type: ignore[arg-type]  # each value parsed for its field's type
