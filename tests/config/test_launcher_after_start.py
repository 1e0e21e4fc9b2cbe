"""development/launcher_after_start.py: what `make run` says of its demo once it started."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from development.launcher_after_start import allow_demo_endpoint, demo_report


def test_the_demo_opens_this_server_to_http_nodes_only_when_it_is_on() -> None:
    on = {"SWITCHBOARD_HTTP_ALLOWED_HOSTS": "svc.internal:8080"}
    line = allow_demo_endpoint(8123, on)
    assert on["SWITCHBOARD_HTTP_ALLOWED_HOSTS"] == "svc.internal:8080,127.0.0.1:8123"
    assert on["SWITCHBOARD_DEMO_HTTP_URL"] == "http://127.0.0.1:8123/metrics"
    assert "127.0.0.1:8123" in line and "SWITCHBOARD_DEMO=0" in line
    for value in ("0", " 0 "):
        off = {"SWITCHBOARD_DEMO": value, "SWITCHBOARD_HTTP_ALLOWED_HOSTS": "svc.internal:8080"}
        line = allow_demo_endpoint(8123, off)
        assert off == {"SWITCHBOARD_DEMO": value, "SWITCHBOARD_HTTP_ALLOWED_HOSTS": "svc.internal:8080"}
        assert line.startswith("off")


@pytest.mark.slow
def test_a_demo_command_stopped_by_ctrl_c_is_reported_without_its_traceback() -> None:
    # Ctrl-C reaches every process of the terminal's group, the demo command too.
    command = [sys.executable, "-c", "import time; print('seeding', flush=True); time.sleep(60)"]
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert demo.stdout is not None and demo.stdout.readline() == "seeding\n"
    demo.send_signal(signal.SIGINT)
    stdout, stderr = demo.communicate(timeout=30)
    assert "KeyboardInterrupt" in stderr  # what the launcher's output showed
    report = demo_report(
        subprocess.CompletedProcess(command, demo.returncode, "seeding\n" + stdout, stderr), "http://h"
    )
    assert report == "  demo: stopped by Ctrl-C before it was done"


def test_a_demo_command_that_ran_is_reported_with_where_to_see_it() -> None:
    done = subprocess.CompletedProcess(["seed_demo"], 0, "Queued execution 42\n", "")
    assert demo_report(done, "http://h").splitlines() == [
        "",
        "  demo: Queued execution 42",
        "  demo: see it on http://h/dashboard/ and http://h/admin/executions_app/execution/",
    ]
