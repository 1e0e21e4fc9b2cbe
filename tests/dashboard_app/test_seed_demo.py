from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from development.demo import CODE_REVIEW, CONTENT, TRIAGE
from development.demo_waiting import BATCH, REFUND
from executions_app.models import Execution
from tests.support.workers import wait_for
from triggers_app.models import Schedule, WebhookTrigger
from triggers_app.webhooks.tokens import hash_token
from workflows_app.models import Workflow


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_the_password_once(transactional_db, settings) -> None:
    settings.SWITCHBOARD_DEMO_PASSWORD = "demo-password-for-tests-7"
    first = seed("--http-url", "http://127.0.0.1:9/hook", "--base-url", "http://demo.test:8000")
    assert "password: demo-password-for-tests-7" in first
    hook_url = re.search(r"POST (http://demo\.test:8000/hooks/\S+)", first).group(1)
    secret = re.search(r"signing secret: (whsec_\S+)", first).group(1)
    second = seed("--http-url", "http://127.0.0.1:9/hook")
    assert "demo-password-for-tests-7" not in second
    assert hook_url not in second and secret not in second  # shown once
    assert second.count(": unchanged") == 7  # five workflows, the hook, the schedule

    demo = get_user_model().objects.get(username="demo")
    workflows = Workflow.objects.filter(owner=demo)
    assert sorted(w.name for w in workflows) == sorted([TRIAGE, CONTENT, CODE_REVIEW, BATCH, REFUND])
    batch = Workflow.objects.get(owner=demo, name=BATCH).current_version.definition
    assert batch["nodes"][1]["config"]["workflow_id"] == str(Workflow.objects.get(owner=demo, name=TRIAGE).id)
    assert all(w.current_version.number == 1 for w in workflows)
    assert Client().login(username="demo", password="demo-password-for-tests-7")
    hook = WebhookTrigger.objects.get(owner=demo)
    assert hook.token_hash == hash_token(hook_url.rsplit("/", 1)[1]) and hook.require_signature
    schedule = Schedule.objects.get(owner=demo)
    assert schedule.workflow.name == TRIAGE and schedule.next_fire_at is not None

    third = seed("--http-url", "http://127.0.0.1:9/other")
    assert f"workflow {CONTENT!r}: updated" in third
    content = Workflow.objects.get(owner=demo, name=CONTENT)
    notify = next(n for n in content.current_version.definition["nodes"] if n["id"] == "notify")
    assert notify["config"]["url"] == "http://127.0.0.1:9/other"


def test_a_generated_password_is_printed_when_none_is_set(transactional_db, settings) -> None:
    settings.SWITCHBOARD_DEMO_PASSWORD = ""
    password = re.search(r"password: (\S+)", seed()).group(1)
    assert Client().login(username="demo", password=password)


@pytest.mark.server
@pytest.mark.worker_thread
def test_seeded_triage_runs_and_the_review_falls_back(celery_worker, ai_settings, emulator) -> None:
    out = seed("--run")
    assert "the emulator now answers groq/demo-unavailable-model with 404" in out
    execution_id = re.search(r"Queued execution (\S+)", out).group(1)
    triage = wait_for(lambda: (e := Execution.objects.get(id=execution_id)).status in ("completed", "failed") and e)
    assert triage.status == "completed", triage.error
    assert triage.outputs["result"]["mood"] == "negative"
    assert triage.outputs["result"]["reply"].startswith("[emulated")

    from executions_app.services import execution_create

    demo = get_user_model().objects.get(username="demo")
    review_workflow = Workflow.objects.get(owner=demo, name=CODE_REVIEW)
    review, _ = execution_create(user=demo, workflow_id=review_workflow.id, inputs={"code": "def f(: pass"})
    review = wait_for(lambda: (e := Execution.objects.get(id=review.id)).status in ("completed", "failed") and e)
    assert review.status == "completed", review.error
    assert review.outputs["result"]["fallback_used"] is True
    assert review.outputs["result"]["provider"] == "openrouter/qwen/qwen-2.5-72b-instruct"
    assert emulator.calls("groq", "demo-unavailable-model") == 1


@pytest.mark.server
@pytest.mark.worker_thread
def test_the_seeded_batch_triages_each_ticket_and_the_refund_waits_for_approval(
    celery_worker, ai_settings, emulator
) -> None:
    from rest_framework.test import APIClient

    from development.demo_waiting import SAMPLE_TICKETS
    from executions_app.models import NodeRun
    from executions_app.services import execution_create

    seed()
    demo = get_user_model().objects.get(username="demo")
    batch_workflow = Workflow.objects.get(owner=demo, name=BATCH)
    batch, _ = execution_create(user=demo, workflow_id=batch_workflow.id, inputs={"tickets": SAMPLE_TICKETS})
    batch = wait_for(lambda: (e := Execution.objects.get(id=batch.id)).finished_at and e, timeout=60)
    assert batch.status == "completed", batch.error
    results = batch.outputs["results"]
    assert [entry["index"] for entry in results] == [0, 1, 2]  # one per ticket, in order
    assert results[0]["output"]["result"]["mood"] == "negative"
    assert Execution.objects.filter(parent_id=batch.id, trigger=f"parent:{batch.id}").count() == 3

    refund_workflow = Workflow.objects.get(owner=demo, name=REFUND)
    refund, _ = execution_create(user=demo, workflow_id=refund_workflow.id, inputs={"customer": "Ada", "amount": 40})
    wait_for(lambda: NodeRun.objects.filter(execution_id=refund.id, node_id="review", status="waiting").exists())
    owner = APIClient()
    owner.force_authenticate(demo)
    [waiting] = owner.get("/api/approvals").json()["results"]
    assert waiting["message"] == "Refund 40 EUR to Ada?"
    decided = owner.post(
        f"/api/executions/{refund.id}/nodes/review/decision",
        {"decision": "approve", "data": {"amount": 35}},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    refund = wait_for(lambda: (e := Execution.objects.get(id=refund.id)).finished_at and e)
    assert refund.status == "completed", refund.error
    assert refund.outputs == {"approved_result": "Refunded 35 EUR to Ada"}
