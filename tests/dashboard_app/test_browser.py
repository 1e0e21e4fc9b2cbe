"""The HTML dashboard in a real browser: Debian's chromium through chromium-driver (nothing
is downloaded), against a live server, real workers and the provider emulator.

Set SWITCHBOARD_DASHBOARD_SCREENSHOT=1 to write the screenshot to docs/dashboard.png
(otherwise it goes to the test's temporary directory)."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from development.demo import CODE_REVIEW, CONTENT, TRIAGE
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution
from executions_app.services import execution_create
from tests.support.definitions import edge, input_node, node
from tests.support.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.workers import ROOT, wait_for, worker_process
from workflows_app.models import Workflow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1500",
)
STATUSES = ("completed", "failed", "canceled", "running", "queued")

pytestmark = [pytest.mark.worker_process, pytest.mark.server]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        missing = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":  # CI installs them: missing there is a failure, not a skip
            pytest.fail(missing)
        pytest.skip(missing)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def run_demo_traffic(staff_user: Any, http_url: str) -> list[str]:
    """The demo workflows and a few plain ones, run to the end by a real worker process."""
    call_command("seed_demo", "--run", "--http-url", http_url, stdout=io.StringIO())
    demo = get_user_model().objects.get(username="demo")
    by_name = {w.name: w for w in Workflow.objects.filter(owner=demo)}
    runs = [
        (demo, by_name[TRIAGE], {"message": "Thanks, the new version works great!"}),
        (demo, by_name[CODE_REVIEW], {"code": "def add(a, b): return a - b"}),
        (demo, by_name[CODE_REVIEW], {"code": "print(undefined_name)"}),
        (demo, by_name[CONTENT], {"topic": "Release notes"}),
    ]
    from workflows_app.services import workflow_create

    divide = workflow_create(
        owner=staff_user,
        name="Nightly report",
        definition={
            "nodes": [
                input_node(n={"type": "integer", "required": True}),
                node("ratio", "TRANSFORM", {"value": "{{ 100 / inputs.n }}"}),
                node("result", "OUTPUT", {"value": "{{ nodes.ratio.output }}"}),
            ],
            "edges": [edge("start", "ratio"), edge("ratio", "result")],
        },
    )
    runs += [(staff_user, divide, {"n": n}) for n in (1, 2, 4, 5, 0)]
    ids = [str(execution_create(user=user, workflow_id=w.id, inputs=inputs)[0].id) for user, w, inputs in runs]
    wait_for(
        lambda: Execution.objects.exclude(status__in=FINISHED_EXECUTION_STATUSES).count() == 0,
        timeout=90,
        interval=0.2,
    )
    return ids


def test_dashboard_shows_what_the_api_reports(browser, live_server, ai_settings, emulator, tmp_path: Path) -> None:
    staff_user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    # The worker's providers use the emulator; the content pipeline may call this server.
    extra_env = {
        "SWITCHBOARD_EMULATOR_URL": emulator.url,
        "SWITCHBOARD_HTTP_ALLOWED_HOSTS": live_server.url.removeprefix("http://"),
    }
    with worker_process(queues="default,nodes,ai", concurrency=2, extra_env=extra_env):
        run_demo_traffic(staff_user, f"{live_server.url}/metrics")

        browser.get(f"{live_server.url}/admin/login/?next=/dashboard/")
        browser.find_element("id", "id_username").send_keys(staff_user.username)
        browser.find_element("id", "id_password").send_keys(DEFAULT_PASSWORD)
        browser.find_element("css selector", "input[type=submit]").click()
        wait_for(lambda: browser.current_url.endswith("/dashboard/"), timeout=30)
        wait_for(lambda: browser.execute_script("return document.body.dataset.loaded === 'true'"), timeout=30)
        wait_for(
            lambda: browser.execute_script(
                "return ['chart-executions', 'chart-durations'].every("
                "id => document.getElementById(id).complete && document.getElementById(id).naturalWidth > 0)"
            ),
            timeout=30,
        )

        overview = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/api/dashboard/overview').then(r => r.json()).then(done);"
        )
        for status in STATUSES:
            shown = browser.find_element("id", f"day-{status}").text
            assert shown == str(overview["executions"]["last_day"][status]), status
        assert overview["executions"]["last_day"]["completed"] >= 6
        assert overview["executions"]["last_day"]["failed"] >= 1
        assert int(browser.find_element("id", "workers-online").text) >= 1
        failures = browser.find_elements("css selector", "#failures tbody a")
        assert failures and "/admin/executions_app/execution/" in failures[0].get_attribute("href")
        providers = browser.find_element("id", "providers").text
        assert "groq" in providers and "openrouter" in providers
        assert "emulated" in providers

        severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == []

        shot = tmp_path / "dashboard.png"
        assert browser.save_screenshot(str(shot))
        if os.environ.get("SWITCHBOARD_DASHBOARD_SCREENSHOT") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "dashboard.png")


def test_anonymous_visitors_are_sent_to_the_login(browser, live_server) -> None:
    browser.get(f"{live_server.url}/dashboard/")
    assert "/dashboard/login" in browser.current_url
    assert browser.find_element("id", "id_username")
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
