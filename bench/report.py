"""Writes bench/RESULTS.md from one run's figures: each beside its floor and target."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
NOTES = Path(__file__).resolve().parent / "NOTES.md"


def row(name: str, value: Any, floor: str, target: str) -> str:
    return f"| {name} | {value} | {floor} | {target} |"


def api_rows(r: dict[str, Any]) -> list[str]:
    api, reads = r["api"], r["cached_reads_ms"]
    endpoints = dict(api["endpoints"])
    floor = endpoints.pop("GET /api/auth/me")
    load = f"{api['clients']} clients x {api['requests_per_client']} requests"

    def figure(e: dict) -> str:
        return f"{e['p50']} / {e['p95']} ms, {e['per_s']}/s"

    beside = f"GET /api/auth/me: {figure(floor)}"
    rows = [
        row(f"API under load ({load}): {name} (p50 / p95, requests/s)", figure(e), beside, "—")
        for name, e in endpoints.items()
    ]
    for name, read in reads.items():
        miss = f"; a miss, query and cache write: {read['miss']['p50']} ms" if "miss" in read else ""
        rows.append(
            row(
                f"cached read: {name} (p50 / p95 ms)",
                "{p50} / {p95}".format(**read["cached"]),
                "the database query: {p50} / {p95} ms{miss}".format(**read["database"], miss=miss),
                "—",
            )
        )
    return rows


def write(r: dict[str, Any]) -> None:
    ai = r.get("ai", {})
    bare, node = r["bare_celery_chain_per_task_ms"], r["engine_chain_per_node_ms"]
    ten, floor = r["ten_node_end_to_end_ms"], r["design_floor_chain_per_task_ms"]
    engine_adds = round(node["p50"] - bare["p50"], 2)
    lines = [
        "# Benchmark results",
        "",
        "Produced by `make bench` (`python -m bench.run`): PostgreSQL + Redis on this machine, one",
        "`celery worker -c 2` (prefork, 2 processes) on the `default` and `nodes` queues and, as in",
        "the Procfile, one `--pool threads -c 16` worker on `ai`; the project's broker settings (no",
        "ack emulation), no Flower, no task events. Every figure is beside the floor measured in",
        "the same run. Raw figures: `bench/out/latest.json`.",
        "",
        f"Run: {r['started']} UTC, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"database {r['database']}.",
        "",
        "| figure | measured | floor, same run | target |",
        "|---|---|---|---|",
        row(
            f"per-node orchestration overhead: a {r['chain_length']}-node TRANSFORM chain minus a bare "
            f"Celery chain of {r['chain_length']} no-op tasks, per node (p50 ms)",
            f"{engine_adds} ({round(engine_adds / bare['p50'], 2)}x the bare task): "
            + ("met" if engine_adds <= 5 and engine_adds <= 1.5 * bare["p50"] else "not met"),
            f"bare task: {bare['p50']} / {bare['p95']} ms (p50 / p95)",
            "p50 ≤ 5 ms and ≤ 1.5x the bare task (the way the AI-node overhead is taken: the node minus its floor)",
        ),
        row(
            "a chain node's whole cost (p50 / p95 ms), and against the bare task",
            f"{node['p50']} / {node['p95']}, {r['per_node_ratio_p50']}x",
            "1x",
            "— (read as the whole cost, ≤ 1.5x is not met: bench/NOTES.md)",
        ),
        row(
            "design floor: the bare chain plus the claim and fenced completion the execution semantics "
            "ask of a node, one prepared statement each (p50 / p95 ms per task)",
            "{p50} / {p95} ({ratio}x the bare task; the engine: {engine}x this floor)".format(
                **floor, ratio=r["design_floor_ratio_p50"], engine=round(node["p50"] / floor["p50"], 2)
            ),
            f"bare task: {bare['p50']} ms",
            "— (no engine that keeps these semantics can be below it)",
        ),
        row("10-node workflow end to end (p50 / p95 ms)", f"{ten['p50']} / {ten['p95']}", "—", "p50 ≤ 60 ms"),
        row("minimal INPUT → OUTPUT executions per second", r["minimal_executions_per_s"], "—", "≥ 100"),
        row("10-node executions per second", r["ten_node_executions_per_s"], "—", "≥ 40"),
        *api_rows(r),
    ]
    if ai:
        direct, duration = ai["direct_sdk_call_ms"], ai["ai_node_duration_ms"]
        back_to_back = ai.get("direct_sdk_call_back_to_back_ms", {}).get("p50", "—")
        lines += [
            row(
                "AI node duration, claim to completion (p50 ms)",
                duration["p50"],
                f"direct SDK call to the emulator, one after each execution: {direct['p50']} ms "
                f"(one after another: {back_to_back} ms)",
                "—",
            ),
            row(
                "AI-node overhead: node minus direct call (p50 ms)", ai["ai_node_minus_direct_call_p50_ms"], "0", "≤ 2"
            ),
            row(
                "AI-node overhead beyond its own recorded call (p50 / p95 ms)",
                "{p50} / {p95}".format(**ai["ai_node_overhead_beyond_its_call_ms"]),
                "0",
                "—",
            ),
            row(
                "fallback switch after a fast failure (p50 / p99 ms)",
                f"{ai['fallback_switch_ms']['p50']} / {ai['fallback_switch_ms']['p99']}",
                "0",
                "p99 ≤ 50",
            ),
            row(
                "calls to a provider whose circuit is open",
                "{calls_to_open_provider} in {requests_while_open} requests".format(**ai["open_circuit"]),
                "0",
                "0",
            ),
        ]
    lines += ["", "What limits each figure, and the history of these numbers: `bench/NOTES.md`.", ""]
    RESULTS.write_text("\n".join(lines))
