"""`make bench-load` re-measures one figure: it must rewrite that section of
bench/RESULTS.md and leave every other figure as the last full run wrote it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import report


def load(requests: int, web_cpu_s: float) -> dict[str, Any]:
    cpu = {"wall_s": 60.0, "machine_busy_cores": 1.5, "cpu_s": {"web server": web_cpu_s, "rest of the machine": 1.0}}
    return {
        "requests": requests,
        "scheduled_per_s": 50,
        "sent_per_s": 50.0,
        "accepted_per_s": 50.0,
        "latency_ms": {"p50": 40.0, "p95": 90.0, "p99": 120.0},
        "sent_late_ms": {"p50": 0.1, "p99": 2.0},
        "status_5xx": 0,
        "status_other": {"429": 2},
        "no_answer": 0,
        "web_cpu_ms_per_1000": round(web_cpu_s * 1_000_000 / requests),
        "cpu": cpu,
    }


def results(web_cpu_s: float) -> dict[str, Any]:
    post = {
        **load(3000, web_cpu_s),
        "executions": {"by_status": {"completed": 3000}, "not_terminal": 0, "drain_s": 1.5},
        "cpu_with_drain": load(3000, web_cpu_s)["cpu"],
    }
    rate = {"rate": 50, "floor: GET /api/auth/me": load(500, 1.0), "POST /api/executions": post}
    idle = {"wall_s": 5.0, "machine_busy_cores": 0.1, "cpu_s": {"web server": 0.0}}
    sustained = {"duration_s": 60, "floor_s": 10, "clients": 32, "drain_deadline_s": 60, "idle": idle, "rates": [rate]}
    return {"started": "2026-12-07 22:00:00", "database": "postgresql", "sustained": sustained}


@pytest.fixture
def results_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "RESULTS.md"
    monkeypatch.setattr(report, "RESULTS", path)
    return path


def test_re_measuring_replaces_only_the_sustained_section(results_file: Path) -> None:
    results_file.write_text("# Benchmark results\n\n| minimal executions per second | 155.6 |\n")
    report.write_sustained(results(web_cpu_s=27.0))
    results_file.write_text(results_file.read_text() + "\n## A later section\n\nkept\n")

    report.write_sustained(results(web_cpu_s=30.0))

    text = results_file.read_text()
    assert text.startswith("# Benchmark results\n\n| minimal executions per second | 155.6 |\n")
    assert text.count(report.SUSTAINED) == 1
    assert "30.0 s, 10000 ms" in text  # the new run's web CPU, over the run and per 1,000
    assert "27.0 s" not in text
    assert text.endswith("## A later section\n\nkept\n")
    assert "| POST /api/executions at 50/s | 50 / 50.0 / 50.0 | 40.0 / 90.0 / 120.0 | 0 | 2 x 429 |" in text
