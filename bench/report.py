"""Writes bench/RESULTS.md from one run's figures: each beside its floor and target."""

from __future__ import annotations

import os
import platform
import textwrap
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


TRIGGERS = "## Triggers"


def triggers_section(r: dict[str, Any]) -> list[str]:
    t = r["triggers"]
    hooks, schedules = t["webhooks"], t["schedules"]
    ingest, sync, api = hooks["async_ingest"], hooks["sync_webhook_ms"], hooks["api_wait_ms"]
    ratio = hooks["sync_over_api_p50"]
    return [
        TRIGGERS,
        "",
        *paragraph(
            "Webhooks through the Procfile's web entry, signed as a sender signs them; the sync hook and "
            "`POST /api/executions` with `wait` by the same clients, one after the other, in the same run. "
            "Schedules fired by the Procfile's `clock` process, with the Procfile's workers running what they "
            "start. Command: `python -m bench.run --only triggers`, or all of `make bench`. "
            f"Run: {r['started']} UTC, {os.cpu_count()} cores, database {r['database']}."
        ),
        "| figure | measured | floor, same run | target |",
        "|---|---|---|---|",
        row(
            f"webhook ingest, async, signed ({hooks['async_clients']} clients): deliveries/s, p50 / p95 ms",
            f"{ingest['per_s']}/s, {ingest['p50']} / {ingest['p95']} ms",
            "POST /api/executions, same clients: {per_s}/s, {p50} / {p95} ms".format(**hooks["api_submit"]),
            "—",
        ),
        row(
            f"sync webhook to a minimal workflow ({hooks['sync_clients']} clients, p50 / p95 ms)",
            f"{sync['p50']} / {sync['p95']} ({ratio}x the API's p50): " + ("met" if ratio <= 1.2 else "not met"),
            f"POST /api/executions with wait, same clients: {api['p50']} / {api['p95']} ms",
            "p50 ≤ 1.2x the API path",
        ),
        row(
            f"schedule lag, {schedules['schedules']} schedules due the same second: to the execution's start "
            "(p50 / p99 ms)",
            "{p50} / {p99}: ".format(**schedules["to_started_ms"])
            + ("met" if schedules["to_started_ms"]["p99"] < 2000 else "not met")
            + "; to the execution's creation: {p50} / {p99} ms".format(**schedules["to_created_ms"]),
            "the same burst created by `execution_create` in a loop, no clock: to the start {p50} / {p99} ms, "
            "to the creation {c50} / {c99} ms".format(
                **schedules["burst_floor"]["to_started_ms"],
                c50=schedules["burst_floor"]["to_created_ms"]["p50"],
                c99=schedules["burst_floor"]["to_created_ms"]["p99"],
            ),
            "p99 < 2 s",
        ),
        "",
    ]


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
    if "triggers" in r:
        lines += triggers_section(r)
    if "sustained" in r:
        lines += [*sustained_section(r), ""]
    RESULTS.write_text("\n".join(lines))


SUSTAINED = "## Sustained submission"


def load_row(name: str, f: dict[str, Any], drain: dict[str, Any] | None) -> str:
    lat, cpu = f["latency_ms"], f["cpu"]
    other = ", ".join(f"{n} x {s}" for s, n in f["status_other"].items()) or "0"
    if f["no_answer"]:
        other += f"; no answer: {f['no_answer']}"
    left = "—" if drain is None else f"{drain['not_terminal']} of {sum(drain['by_status'].values())}"
    return (
        f"| {name} | {f['scheduled_per_s']} / {f['sent_per_s']} / {f['accepted_per_s']} "
        f"| {lat['p50']} / {lat['p95']} / {lat['p99']} "
        f"| {f['status_5xx']} | {other} | {cpu['cpu_s']['web server']} s, {f['web_cpu_ms_per_1000']} ms "
        f"| {cpu['machine_busy_cores']} | {left} |"
    )


def paragraph(text: str) -> list[str]:
    return [*textwrap.wrap(text, width=92, break_on_hyphens=False), ""]


def per_submission(post: dict[str, Any]) -> str:
    """CPU per submission from the load's start to its executions' end, process by process."""
    used = post["cpu_with_drain"]["cpu_s"]
    ours = {name: s for name, s in used.items() if name != "rest of the machine"}
    each = ", ".join(f"{name} {s * 1000 / post['requests']:.1f}" for name, s in ours.items())
    return f"{sum(ours.values()) * 1000 / post['requests']:.1f} ms ({each})"


def sustained_section(r: dict[str, Any]) -> list[str]:
    s = r["sustained"]
    idle = s["idle"]
    lines = [
        SUSTAINED,
        "",
        *paragraph(
            f"`POST /api/executions` of a 3-node workflow (INPUT → TRANSFORM → OUTPUT, no `wait`) at a "
            f"fixed rate for {s['duration_s']} s, open loop from {s['clients']} client threads (each request "
            "leaves at its scheduled time whatever the earlier answers; latency counts from that time), "
            "against the Procfile's web entry with the Procfile's workers running what it creates. The floor, "
            f"same run: the same server answering `GET /api/auth/me` at the same rate for {s['floor_s']} s "
            "just before. Web CPU: the web server's process group (psutil), over the run and per 1,000 "
            f"requests. Target: no 5xx, and every execution terminal within {s['drain_deadline_s']} s of the "
            "load's end. Command: `make bench-load` (`python -m bench.run --only sustained`), or all of "
            f"`make bench`. Fewer are sent than scheduled only when all {s['clients']} client threads are "
            "waiting for answers; those requests leave late, and their latency still counts from their "
            "scheduled time."
        ),
        *paragraph(
            f"Run: {r['started']} UTC, {os.cpu_count()} cores, database {r['database']}. Before the load, in "
            f"{idle['wall_s']} s, the idle web server used {idle['cpu_s']['web server']} s of CPU, and the "
            f"machine was busy on {idle['machine_busy_cores']} cores (whatever else runs on it)."
        ),
        "| requests | scheduled / sent / accepted (2xx) per s | latency p50 / p95 / p99 ms | 5xx | other non-2xx "
        "| web CPU: over the run, per 1,000 | machine busy, cores | executions not terminal 60 s after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rate in s["rates"]:
        post, floor = rate["POST /api/executions"], rate["floor: GET /api/auth/me"]
        lines.append(load_row(f"POST /api/executions at {rate['rate']}/s", post, post["executions"]))
        lines.append(load_row(f"floor: GET /api/auth/me at {rate['rate']}/s", floor, None))
    lines.append("")
    for rate in s["rates"]:
        post = rate["POST /api/executions"]
        spent = ", ".join(f"{name} {cpu_s} s" for name, cpu_s in post["cpu"]["cpu_s"].items())
        executions = post["executions"]
        lines += textwrap.wrap(
            f"- {rate['rate']}/s: CPU over the run ({post['cpu']['wall_s']} s): {spent}. Executions "
            f"{executions['drain_s']} s after the load: {executions['by_status']}. CPU per submission, "
            f"until its execution's end: {per_submission(post)}. Sent late by p50 / p99: "
            f"{post['sent_late_ms']['p50']} / {post['sent_late_ms']['p99']} ms.",
            width=92,
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
    return lines


def replace_section(title: str, lines: list[str]) -> None:
    """Replaces the section `title` of RESULTS.md (or appends it), leaving the rest."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    section = "\n".join(lines) + "\n"
    if title in text:
        before, _, after = text.partition(title)
        rest = after.find("\n## ")
        text = before + section + (after[rest + 1 :] if rest >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def write_sustained(r: dict[str, Any]) -> None:
    """Replaces the sustained section of RESULTS.md (or appends it), leaving the rest."""
    replace_section(SUSTAINED, sustained_section(r))


def write_triggers(r: dict[str, Any]) -> None:
    replace_section(TRIGGERS, triggers_section(r))
