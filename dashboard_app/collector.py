"""The Prometheus collector: reads the Redis counters and the database aggregates at scrape
time, so every web process answers the same numbers (per-process counters would not,
under gunicorn and Celery). One source failing (Redis down) leaves the others and sets
`switchboard_scrape_error{source}` to 1."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from ai_providers.health import provider_status
from dashboard_app import counters, platform_state, selectors
from triggers_app.schedules.lag import LAG_BUCKETS_S, lag_histogram
from triggers_app.webhooks.metrics import delivery_counts

logger = logging.getLogger(__name__)
CIRCUIT_STATES = ("closed", "half_open", "open")


class PlatformCollector(Collector):
    """Platform-wide series, or one owner's where the numbers are per user (executions and
    node runs); queues, workers and providers are shared by everyone."""

    def __init__(self, owner_id: Any | None = None):
        self.owner_id = owner_id

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "switchboard_scrape_error", "1 when a source could not be read during this scrape.", labels=["source"]
        )
        for source, read in (
            ("counters", self._counters),
            ("database", self._database),
            ("broker", self._broker),
            ("workers", self._workers),
            ("providers", self._providers),
        ):
            failed = False
            try:
                yield from read()
            except Exception:
                logger.warning("metrics: could not read %s", source, exc_info=True)
                failed = True
            errors.add_metric([source], 1.0 if failed else 0.0)
        yield errors

    # --- sources -------------------------------------------------------------------------
    def _counters(self) -> Iterator[Metric]:
        client = platform_state.cache_redis()
        executions = CounterMetricFamily(
            "switchboard_executions", "Finished executions by final status (Redis counters).", labels=["status"]
        )
        counts = counters.execution_counts(self.owner_id, client=client)
        for status in ("completed", "failed", "canceled"):
            executions.add_metric([status], counts.get(status, 0))
        yield executions
        if self.owner_id is None:  # the histogram is kept for the platform only
            yield duration_histogram(counters.duration_histogram(client=client))
            deliveries = CounterMetricFamily(
                "switchboard_webhook_deliveries",
                "Webhook deliveries by trigger and answered HTTP status (Redis counters).",
                labels=["trigger", "status"],
            )
            for (trigger_id, status), count in sorted(delivery_counts(client=client).items()):
                deliveries.add_metric([trigger_id, status], count)
            yield deliveries
            yield histogram_family(
                "switchboard_schedule_lag_seconds",
                "From a schedule's fire time to its execution's start, a worker claiming its first node "
                "(Redis counters).",
                lag_histogram(client=client, kind="started"),
                LAG_BUCKETS_S,
            )
            yield histogram_family(
                "switchboard_schedule_fire_lag_seconds",
                "From a schedule's fire time to its execution's creation by the clock (Redis counters).",
                lag_histogram(client=client, kind="created"),
                LAG_BUCKETS_S,
            )

    def _database(self) -> Iterator[Metric]:
        now = timezone.now()
        active = GaugeMetricFamily(
            "switchboard_executions_active", "Executions queued or running now (database).", labels=["status"]
        )
        for status, n in selectors.active_execution_counts(owner_id=self.owner_id).items():
            active.add_metric([status], n)
        yield active
        waiting = GaugeMetricFamily(
            "switchboard_nodes_waiting",
            "Node runs waiting now (suspended, holding no worker), by what wakes them (database).",
            labels=["kind"],
        )
        for kind, n in selectors.waiting_node_counts(owner_id=self.owner_id).items():
            waiting.add_metric([kind], n)
        yield waiting
        node_runs = GaugeMetricFamily(
            "switchboard_node_runs_last_day",
            "Node runs of the executions created in the last 24 h, by node type and status (database).",
            labels=["type", "status"],
        )
        for row in selectors.node_run_counts(owner_id=self.owner_id, now=now):
            node_runs.add_metric([row["type"], row["status"]], row["n"])
        yield node_runs

    def _broker(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("switchboard_queue_depth", "Messages waiting in a broker queue.", labels=["queue"])
        for queue, n in platform_state.queue_depths().items():
            depth.add_metric([queue], n)
        yield depth

    def _workers(self) -> Iterator[Metric]:
        workers = platform_state.workers_online()
        yield GaugeMetricFamily("switchboard_workers_online", "Workers with a live heartbeat.", value=len(workers))

    def _providers(self) -> Iterator[Metric]:
        yield from provider_families(provider_status())


def duration_histogram(raw: dict[str, float]) -> HistogramMetricFamily:
    return histogram_family(
        "switchboard_execution_duration_seconds",
        "Execution duration, start to finish (Redis counters).",
        raw,
        counters.DURATION_BUCKETS_S,
    )


def histogram_family(name: str, documentation: str, raw: dict[str, float], bounds: Any) -> HistogramMetricFamily:
    # The counters keep cumulative buckets (`le:<s>` counts every sample at or under s).
    buckets = [(_le(bound), raw.get(f"le:{bound}", 0.0)) for bound in bounds]
    buckets.append(("+Inf", raw.get("count", 0.0)))
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=raw.get("sum", 0.0))


def _le(bound: float) -> str:
    return str(float(bound))


def provider_families(statuses: list[dict]) -> list[Metric]:
    """Per-provider series from ai_providers.health.provider_status(); today's counters
    (UTC day) reset at midnight UTC, which rate() reads as a counter reset."""
    configured = GaugeMetricFamily(
        "switchboard_ai_provider_configured", "1 when the provider has a key (or the emulator).", labels=["provider"]
    )
    emulated = GaugeMetricFamily(
        "switchboard_ai_provider_emulated", "1 when answered by the emulator.", labels=["provider"]
    )
    calls = CounterMetricFamily("switchboard_ai_calls", "Provider calls today (UTC).", labels=["provider"])
    errors = CounterMetricFamily(
        "switchboard_ai_errors", "Failed provider calls today, by code.", labels=["provider", "code"]
    )
    tokens = CounterMetricFamily("switchboard_ai_tokens", "Tokens today.", labels=["provider", "direction"])
    cost = CounterMetricFamily("switchboard_ai_cost_usd", "Cost today in USD.", labels=["provider"])
    latency = GaugeMetricFamily(
        "switchboard_ai_latency_ms", "Call latency today (last samples), by quantile.", labels=["provider", "quantile"]
    )
    circuit = GaugeMetricFamily(
        "switchboard_ai_circuit_state", "1 for the breaker's current state.", labels=["provider", "model", "state"]
    )
    quota = GaugeMetricFamily(
        "switchboard_ai_quota_left",
        "Requests or tokens left in the window (limited quotas only).",
        labels=["provider", "quota"],
    )
    for status in statuses:
        name = status["provider"]
        configured.add_metric([name], float(bool(status.get("configured"))))
        emulated.add_metric([name], float(bool(status.get("emulated"))))
        if "calls" not in status:
            continue  # Redis was unavailable for this provider's counters
        calls.add_metric([name], status["calls"])
        for code, n in sorted(status.get("errors_by_code", {}).items()):
            errors.add_metric([name, code], n)
        tokens.add_metric([name, "input"], status.get("input_tokens", 0))
        tokens.add_metric([name, "output"], status.get("output_tokens", 0))
        cost.add_metric([name], status.get("cost_usd", 0.0))
        for quantile, field in (("0.5", "latency_p50_ms"), ("0.95", "latency_p95_ms")):
            if status.get(field) is not None:
                latency.add_metric([name, quantile], status[field])
        for model, state in sorted(status.get("circuits", {}).items()):
            for candidate in CIRCUIT_STATES:
                circuit.add_metric([name, model, candidate], float(state == candidate))
        for window, left in sorted((status.get("quota_left") or {}).items()):
            if left is not None:
                quota.add_metric([name, window], left)
    return [configured, emulated, calls, errors, tokens, cost, latency, circuit, quota]


def registry_for(owner_id: Any | None = None) -> CollectorRegistry:
    """A registry holding only our collector (no per-process default collectors)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector(owner_id))
    return registry


def families_as_json(collect: Callable[[], Iterator[Metric]]) -> list[dict[str, Any]]:
    """The collected families as plain JSON: name, type, help and every sample."""
    return [
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [{"name": s.name, "labels": dict(s.labels), "value": s.value} for s in family.samples],
        }
        for family in collect()
    ]
