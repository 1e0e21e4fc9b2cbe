"""`make run` for real: `python -m development.launcher` on a fresh var dir, with no DATABASE_URL
and no REDIS_URL, exactly as on a fresh clone; then Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from development.embedded_redis import free_port
from tests.support.definitions import edge, input_node, node
from tests.support.launcher import (
    ROOT,
    ProcessTree,
    answers,
    banner_urls,
    banner_value,
    check_account_tour,
    execution_status,
    final_banner,
    launcher_env,
    login,
    metric_sample,
    node_run_status,
    ping_through_broker,
    start_execution,
    start_launcher,
)
from tests.support.workers import wait_for

# What the test session sets for itself; a real `make run` sees none of it.


HELLO_DEFINITION = {
    "nodes": [
        input_node(text={"type": "string", "required": True}),
        node("result", "OUTPUT", {"value": "{{ inputs.text }}"}),
    ],
    "edges": [edge("start", "result")],
}

# Long enough that the node still runs when the workers' turn to stop comes (after the
# web's), and longer than the 5 s after which honcho alone killed everything.
# At most SWITCHBOARD_WAIT_INLINE_MAX_S: the wait sleeps in the worker that Ctrl-C stops
# (a longer one would suspend, holding no worker).
PAUSE_S = 5
PAUSE_DEFINITION = {
    "nodes": [
        input_node(),
        node("pause", "WAIT", {"seconds": PAUSE_S}),
        node("result", "OUTPUT", {"value": "started"}),
    ],
    "edges": [edge("start", "pause"), edge("start", "result")],  # the pause is the last node to end
}


@pytest.mark.server
@pytest.mark.worker_process
@pytest.mark.timeout(300)
def test_make_run_serves_everything_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    web_port, flower_port = free_port(), free_port()
    var_dir, log_path = tmp_path / "var", tmp_path / "launcher.log"
    web = f"http://127.0.0.1:{web_port}"
    launcher = start_launcher(var_dir, log_path, web_port, flower_port)
    tree = ProcessTree(launcher.pid)
    admin_session = httpx.Client(base_url=web, timeout=10)  # a browser logged in to the admin
    try:
        deadline = time.monotonic() + 90
        while True:
            tree.record()
            assert launcher.poll() is None, "the launcher exited:\n" + log_path.read_text()[-5000:]
            try:
                if httpx.get(f"{web}/api/docs", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "no 200 from /api/docs in 90s:\n" + log_path.read_text()[-5000:]
            time.sleep(0.5)

        output = log_path.read_text()
        admin_password = banner_value(output, r"Admin .*user 'admin' created, password (\S+)")[1]
        flower_user, flower_password = banner_value(output, r"Flower .*user (\S+), password (\S+)").groups()
        redis_url = banner_value(output, r"Redis\s+(redis://127\.0\.0\.1:\d+/0) \(embedded")[1]
        assert banner_value(output, r"Database\s+SQLite file (\S+)")[1] == str(var_dir / "switchboard.sqlite3")
        # No provider key in the environment: the emulator stands in, and the banner says so.
        banner_value(output, r"AI providers\s+emulated by the provider emulator at http://127\.0\.0\.1:\d+")
        # The demo is on by default, and the banner says it opened this server to HTTP nodes.
        banner_value(output, rf"Demo\s+on: .*127\.0\.0\.1:{web_port} added to SWITCHBOARD_HTTP_ALLOWED_HOSTS")

        # The generated SECRET_KEY is kept for the next run, readable by its owner only.
        assert stat.S_IMODE((var_dir / "secret_key").stat().st_mode) == 0o600

        # Every URL of the banner answers as it says; each needs its own check below.
        flower = f"http://127.0.0.1:{flower_port}/"
        emulator = banner_value(output, r"emulated by the provider emulator at (http://127\.0\.0\.1:\d+)")[1]
        pages = {f"{web}/api/docs", f"{web}/admin/", f"{web}/dashboard/", f"{web}/metrics", flower, emulator}
        assert banner_urls(output) == pages
        docs = httpx.get(f"{web}/api/docs", timeout=10)
        # Swagger UI comes from this server (drf-spectacular-sidecar), not from a CDN.
        bundle = banner_value(docs.text, r'src="(/static/[^"]*swagger-ui-bundle\.js)"')[1]
        assert httpx.get(web + bundle, timeout=10).status_code == 200
        # "ready" waits for the emulator and the workers too: from then on every banner link
        # but Flower works. The banner comes again, with the admin's password, which is kept
        # in var/ as well, for its owner only.
        final = wait_for(lambda: final_banner(log_path.read_text()), timeout=120)
        kept = var_dir / "admin_credentials"
        assert banner_value(final, r"Admin .*user 'admin' created, password (\S+)")[1] == admin_password
        assert f"(kept in {kept}, mode 0600)" in final
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert f"username: admin\npassword: {admin_password}\n" in kept.read_text()
        assert httpx.get(f"{emulator}/_emulator/health", timeout=10).status_code == 200
        for page, login_page in (
            ("/admin/", "/admin/login/?next=/admin/"),
            ("/dashboard/", "/dashboard/login?next=/dashboard/"),
        ):
            anonymous = httpx.get(web + page, timeout=10)
            assert (anonymous.status_code, anonymous.headers["location"]) == (302, login_page)
        metrics = httpx.get(f"{web}/metrics", timeout=10)
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        assert metric_sample(metrics.text, "switchboard_workers_online") is not None

        check_account_tour(web)

        # Flower refuses anyone without the credentials the banner printed.
        wait_for(lambda: answers(flower), timeout=60)  # Flower may start after the web
        assert httpx.get(flower, timeout=10).status_code == 401
        assert httpx.get(flower, auth=("flower", "wrong"), timeout=10).status_code == 401
        assert httpx.get(flower, auth=(flower_user, flower_password), timeout=10).status_code == 200

        # The printed admin password logs in over plain http (secure cookies are off here:
        # a browser never sends Secure cookies back over http, and the CSRF check would fail).
        admin_session.get("/admin/login/")
        answer = admin_session.post(
            "/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": admin_session.cookies["csrftoken"],
                "username": "admin",
                "password": admin_password,
                "next": "/admin/",
            },
        )
        assert answer.status_code == 302, answer.text[:500]
        assert answer.headers["location"] == "/admin/"
        admin_index = admin_session.get("/admin/")
        assert admin_index.status_code == 200 and 'href="/admin/executions_app/execution/"' in admin_index.text
        # The same session opens the dashboard, which links to Flower.
        dashboard = admin_session.get("/dashboard/")
        assert dashboard.status_code == 200 and f'href="{flower.rstrip("/")}' in dashboard.text

        # Both kinds of worker consume from the embedded broker.
        ping_through_broker(redis_url, "default")
        ping_through_broker(redis_url, "ai")

        # The demo: user, three workflows, and one execution once the workers answer.
        demo_id = wait_for(
            lambda: (m := re.search(r"demo: Queued execution (\S+)", log_path.read_text())) and m[1], timeout=120
        )
        wait_for(lambda: execution_status(var_dir, demo_id) == "completed", timeout=60)

        # ... and it shows where the launcher says: the dashboard (staff see the platform),
        # the admin's execution list, and the Prometheus counters.
        seen_on = banner_value(log_path.read_text(), r"demo: see it on (\S+) and (\S+)")
        assert seen_on.groups() == (f"{web}/dashboard/", f"{web}/admin/executions_app/execution/")
        overview = admin_session.get("/api/dashboard/overview").json()
        assert overview["scope"] == "platform"
        assert overview["executions"]["last_hour"]["completed"] >= 1, overview["executions"]
        assert demo_id in admin_session.get(seen_on[2]).text

        def completed_in_metrics() -> float:
            scrape = httpx.get(f"{web}/metrics", timeout=10).text
            return metric_sample(scrape, "switchboard_executions_total", status="completed") or 0

        wait_for(lambda: completed_in_metrics() >= 1, timeout=10)

        # A command typed in another terminal finds what make run set up (var/run.env):
        # the secret key and the embedded Redis, so its execution runs on these workers.
        assert stat.S_IMODE((var_dir / "run.env").stat().st_mode) == 0o600
        hello = tmp_path / "hello.json"
        hello.write_text(json.dumps({"name": "hello", "definition": HELLO_DEFINITION}))
        command = subprocess.run(
            [sys.executable, "manage.py", "run_workflow", str(hello), "--user", "admin", "--input", "text=hi"],
            cwd=ROOT,
            env=launcher_env(var_dir, web_port, flower_port),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert command.returncode == 0, command.stdout + command.stderr
        assert '"result": "hi"' in command.stdout

        tree.record()
        running = " | ".join(tree.command_lines())
        programs = (
            "redis-server",
            "provider_emulator",
            "gunicorn",
            "config worker",
            "config beat",
            "manage.py run_clock",
            "config flower",
        )
        for program in programs:
            assert program in running, f"{program} is not running under the launcher"

        # Ctrl-C while a node runs: the web, beat and Flower stop first, then the workers,
        # which finish the node, then Redis (the completion still publishes to it).
        pausing = start_execution(web, login(web, "admin", admin_password), "pause", PAUSE_DEFINITION)
        wait_for(lambda: node_run_status(var_dir, pausing, "pause") == "running", timeout=60)
        tree.record()
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        returncode = launcher.wait(timeout=90)
    finally:
        admin_session.close()
        tree.record()
        if launcher.poll() is None:  # the test failed before its Ctrl-C
            with contextlib.suppress(ProcessLookupError):
                os.killpg(launcher.pid, signal.SIGINT)
            try:
                launcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                launcher.kill()

    output = log_path.read_text()
    stop = output[output.index("SIGINT received") :]
    assert returncode == 0, stop
    assert "Traceback" not in output and "Connection refused" not in output, stop
    assert len(stop.splitlines()) <= 40, stop  # a few lines: what stopped, in which order
    order = [
        "| web stopped",
        "| stopping worker, ai-worker",
        "| worker stopped (rc=0)",
        "| stopping emulator, redis",
        "| redis stopped (rc=0)",
    ]
    assert [stop.index(step) for step in order] == sorted(stop.index(step) for step in order), stop
    assert stop.index("| ai-worker stopped (rc=0)") < stop.index("| stopping emulator, redis"), stop
    assert "killing" not in stop
    # The node that ran when Ctrl-C came finished, and so did its execution.
    assert node_run_status(var_dir, pausing, "pause") == "completed"
    assert execution_status(var_dir, pausing) == "completed"

    assert not (var_dir / "run.env").exists()  # a stopped launcher leaves no settings behind
    assert_none_left(tree)

    # A second start on the same var/: the admin exists, and the banner says how to reset
    # its password instead of showing one.
    second_log = tmp_path / "second.log"
    second = start_launcher(var_dir, second_log, web_port, flower_port)
    second_tree = ProcessTree(second.pid)
    returncode = None
    try:
        final = wait_for(lambda: second.poll() is None and final_banner(second_log.read_text()), timeout=120)
        reset = ".venv/bin/python manage.py changepassword admin"
        assert f"user 'admin' exists; password: see {kept}, or reset it with {reset}" in final
        assert admin_password not in second_log.read_text()
        second_tree.record()
    finally:
        second_tree.record()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(second.pid, signal.SIGINT)
        try:
            returncode = second.wait(timeout=90)
        except subprocess.TimeoutExpired:
            second.kill()
    assert returncode == 0 and "Traceback" not in second_log.read_text(), second_log.read_text()[-3000:]
    assert_none_left(second_tree)


def assert_none_left(tree: ProcessTree) -> None:
    survivors = tree.command_lines()
    for process in tree.survivors():  # never leave them behind, even when the test fails
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    assert not survivors, "still running after Ctrl-C: " + " | ".join(survivors)
