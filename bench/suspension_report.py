"""The suspension section of bench/RESULTS.md (`python -m bench.run --only suspension`)."""

from __future__ import annotations

import os
from typing import Any

from bench.report import paragraph, replace_section, row

SUSPENSION = "## Suspension"


def suspension_section(r: dict[str, Any]) -> list[str]:
    s = r["suspension"]
    ten, timers = s["ten_node"]["ten_node_end_to_end_ms"], s["timers"]
    woken, ended = timers["to_woken_ms"], timers["to_node_end_ms"]
    lines = [
        SUSPENSION,
        "",
        *paragraph(
            "Waiting nodes and the timer loop, with the Procfile's `clock` process and the bench workers "
            "(`celery worker -c 2` on default and nodes). The timers are WAIT nodes already suspended (written in "
            "bulk, as their first run leaves them), due one after another over a minute; lateness is measured "
            "from each one's due time to its wake (the loop's update) and to its node's end (a worker ran the "
            "woken WAIT). Command: `python -m bench.run --only suspension`. "
            f"Run: {r['started']} UTC, {os.cpu_count()} cores, database {r['database']}."
        ),
        "| figure | measured | floor, same run | target |",
        "|---|---|---|---|",
        row(
            "10-node workflow end to end, nothing waiting (p50 / p95 ms)",
            f"{ten['p50']} / {ten['p95']}",
            "before suspension (0659e06), five alternating runs each: no difference beyond the "
            "±4 ms spread (bench/NOTES.md, Suspension)",
            "not slower than before",
        ),
        row(
            f"timer lateness, {timers['timers']:,} WAIT nodes due within {timers['due_within_s']} s: "
            "due to woken (p50 / p99 ms)",
            f"{woken['p50']} / {woken['p99']}",
            "—",
            "p99 < 2,000 ms",
        ),
        row(
            "the same: due to the woken node's end (p50 / p99 ms)",
            f"{ended['p50']} / {ended['p99']}",
            "—",
            "— (bound by the workers: 333 node runs/s for a minute)",
        ),
    ]
    if "map" in s:
        m = s["map"]
        lines.append(
            row(
                f"MAP fan-out: {m['items']:,} items of a 2-node sub-workflow, concurrency {m['concurrency']}: "
                "items/s, and per item (ms)",
                f"{m['items_per_s']}/s, {m['per_item_ms']} ms ({m['over_burst']}x the burst)",
                f"a burst of {m['items']:,} executions of the same sub-workflow: {m['burst_per_s']}/s, "
                f"{m['burst_per_item_ms']} ms each",
                "per item within 1.3x the burst",
            )
        )
    lines.append("")
    return lines


def write_suspension(r: dict[str, Any]) -> None:
    replace_section(SUSPENSION, suspension_section(r))
