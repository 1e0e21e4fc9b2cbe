"""The demo: a `demo` user, five workflows that show the platform's parts, a webhook
and a schedule (README "Monitoring" → "Demo"). Seeding is idempotent: a second run changes nothing unless a
definition changed (then the workflow gets a new version)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from development.demo_waiting import BATCH, REFUND, batch_triage, refund_with_approval
from executions_app.services import execution_create
from triggers_app.models import Schedule, WebhookTrigger
from triggers_app.schedules.services import schedule_create
from triggers_app.webhooks.services import webhook_create
from workflows_app.models import Workflow
from workflows_app.services import workflow_create, workflow_update

DEMO_USERNAME = "demo"
TRIAGE = "Support triage"
CONTENT = "Content pipeline"
CODE_REVIEW = "Code review with fallback"
# A model no vendor serves: a real Groq answers 404 (model_not_found) and the router falls
# back to the next entry. The emulator answers any model, so seeding installs a fault for
# this one on a running emulator (README "Demo").
UNAVAILABLE_MODEL = "groq/demo-unavailable-model"
FALLBACK_MODEL = "openrouter/qwen/qwen-2.5-72b-instruct"
# With only a Gemini key set, OpenRouter is skipped as not configured: Gemini still answers.
LAST_RESORT_MODEL = "gemini/gemini-2.5-flash"
ANGRY_TICKET = "My order arrived broken and nobody answers my emails. This is terrible!"


def support_triage() -> dict:
    """The docs/concepts/workflows.md example: sentiment, a branch, an apology for angry tickets, the
    others stored in the "tickets" collection."""
    return {
        "nodes": [
            {"id": "ticket", "type": "INPUT", "config": {"fields": {"message": {"type": "string", "required": True}}}},
            {
                "id": "mood",
                "type": "AI_PROCESSOR",
                "config": {"task_type": "sentiment_analysis", "prompt": "{{ inputs.message }}"},
            },
            {"id": "angry", "type": "CONDITION", "config": {"expression": "nodes.mood.output.label == 'negative'"}},
            {
                "id": "apology",
                "type": "AI_PROCESSOR",
                "config": {
                    "task_type": "content_generation",
                    "prompt": "Write a short apology for: {{ inputs.message }}",
                    "temperature": 0.7,
                },
            },
            {
                "id": "log",
                "type": "DATABASE",
                "config": {
                    "operation": "insert",
                    "collection": "tickets",
                    "document": {"text": "{{ inputs.message }}", "mood": "{{ nodes.mood.output.label }}"},
                },
            },
            {
                "id": "result",
                "type": "OUTPUT",
                "config": {
                    "value": {"mood": "{{ nodes.mood.output.label }}", "reply": "{{ nodes.apology.output.text }}"}
                },
            },
        ],
        "edges": [
            {"source": "ticket", "target": "mood"},
            {"source": "mood", "target": "angry"},
            {"source": "angry", "target": "apology", "branch": "true"},
            {"source": "angry", "target": "log", "branch": "false"},
            {"source": "apology", "target": "result"},
            {"source": "log", "target": "result"},
        ],
    }


def content_pipeline(http_url: str) -> dict:
    """Draft an article (TRANSFORM), store it (DATABASE), tell a web endpoint (HTTP_REQUEST)."""
    return {
        "nodes": [
            {
                "id": "start",
                "type": "INPUT",
                "config": {
                    "fields": {
                        "topic": {"type": "string", "required": True},
                        "body": {"type": "string", "default": "A first draft."},
                    }
                },
            },
            {
                "id": "draft",
                "type": "TRANSFORM",
                "config": {
                    "value": {
                        "title": "{{ inputs.topic | trim | upper }}",
                        "body": "{{ inputs.body }}",
                        "characters": "{{ inputs.body | length }}",
                    }
                },
            },
            {
                "id": "store",
                "type": "DATABASE",
                "config": {
                    "operation": "insert",
                    "collection": "articles",
                    "document": {"title": "{{ nodes.draft.output.title }}", "body": "{{ nodes.draft.output.body }}"},
                },
            },
            {
                "id": "notify",
                "type": "HTTP_REQUEST",
                "config": {
                    "method": "GET",
                    "url": http_url,
                    "query": {
                        "article": "{{ nodes.store.output.inserted_id }}",
                        "title": "{{ nodes.draft.output.title }}",
                    },
                    "timeout_s": 10,
                },
            },
            {
                "id": "result",
                "type": "OUTPUT",
                "config": {
                    "value": {
                        "article_id": "{{ nodes.store.output.inserted_id }}",
                        "notified": "{{ nodes.notify.output.status }}",
                    }
                },
            },
        ],
        "edges": [
            {"source": "start", "target": "draft"},
            {"source": "draft", "target": "store"},
            {"source": "store", "target": "notify"},
            {"source": "notify", "target": "result"},
        ],
    }


def code_review() -> dict:
    """A review whose first provider cannot answer: the result says `fallback_used: true`."""
    return {
        "nodes": [
            {"id": "start", "type": "INPUT", "config": {"fields": {"code": {"type": "string", "required": True}}}},
            {
                "id": "review",
                "type": "AI_PROCESSOR",
                "config": {
                    "task_type": "code_generation",
                    "prompt": "Review this code and suggest a fix:\n{{ inputs.code }}",
                    "providers": [UNAVAILABLE_MODEL, FALLBACK_MODEL, LAST_RESORT_MODEL],
                },
            },
            {
                "id": "result",
                "type": "OUTPUT",
                "config": {
                    "value": {
                        "review": "{{ nodes.review.output.text }}",
                        "provider": "{{ nodes.review.output.provider }}/{{ nodes.review.output.model }}",
                        "fallback_used": "{{ nodes.review.output.fallback_used }}",
                    }
                },
            },
        ],
        "edges": [{"source": "start", "target": "review"}, {"source": "review", "target": "result"}],
    }


@dataclass
class DemoSeed:
    user: Any
    password: str | None  # set only when the user was created now
    workflows: dict[str, Workflow] = field(default_factory=dict)
    changes: dict[str, str] = field(default_factory=dict)  # name -> created / updated / unchanged
    # The demo hook's URL and signing secret, set only when the hook was created now.
    hook_url: str | None = None
    hook_secret: str | None = None


HOOK_NAME = "Tickets from the help desk"
SCHEDULE_NAME = "Hourly check-in"


def _demo_triggers(seed: DemoSeed, base_url: str) -> None:
    """A signed webhook into the triage workflow (a help desk posts `{"message": …}`) and
    an hourly schedule of it. Made once; a second seeding leaves them as they are."""
    triage = seed.workflows[TRIAGE]
    if not WebhookTrigger.objects.filter(owner=seed.user, name=HOOK_NAME, revoked_at__isnull=True).exists():
        _, token, secret = webhook_create(
            user=seed.user,
            workflow_id=triage.id,
            name=HOOK_NAME,
            input_mapping={"message": "{{ body.message }}"},
            delivery_id_header="X-Request-Id",
        )
        seed.hook_url, seed.hook_secret = f"{base_url.rstrip('/')}/hooks/{token}", secret
        seed.changes[HOOK_NAME] = "created"
    else:
        seed.changes[HOOK_NAME] = "unchanged"
    if not Schedule.objects.filter(owner=seed.user, name=SCHEDULE_NAME).exists():
        schedule_create(
            user=seed.user,
            workflow_id=triage.id,
            name=SCHEDULE_NAME,
            cron="@hourly",
            inputs={"message": "Hourly check-in, scheduled for {{ trigger.scheduled_at }}: all quiet?"},
        )
        seed.changes[SCHEDULE_NAME] = "created"
    else:
        seed.changes[SCHEDULE_NAME] = "unchanged"


@transaction.atomic
def demo_seed(*, http_url: str | None = None, base_url: str = "http://127.0.0.1:8000") -> DemoSeed:
    user_model = get_user_model()
    user = user_model.objects.filter(username=DEMO_USERNAME).first()
    password = None
    if user is None:
        password = settings.SWITCHBOARD_DEMO_PASSWORD or secrets.token_urlsafe(12)
        user = user_model.objects.create_user(username=DEMO_USERNAME, email="demo@example.com", password=password)
    seed = DemoSeed(user=user, password=password)
    definitions = {
        TRIAGE: ("Answer angry tickets first", support_triage()),
        CONTENT: ("Draft, store, notify", content_pipeline(http_url or settings.SWITCHBOARD_DEMO_HTTP_URL)),
        CODE_REVIEW: ("The first provider fails; the router falls back", code_review()),
    }
    for name, (description, definition) in definitions.items():
        _seed_workflow(seed, name, description, definition)
    # The workflows that wait: the batch calls the triage workflow by its id.
    _seed_workflow(seed, BATCH, "MAP over tickets, calling support triage", batch_triage(seed.workflows[TRIAGE].id))
    _seed_workflow(seed, REFUND, "Waits for the owner's approval", refund_with_approval())
    _demo_triggers(seed, base_url)
    return seed


def _seed_workflow(seed: DemoSeed, name: str, description: str, definition: dict) -> None:
    """Creates the workflow, or gives it a new version when its definition changed."""
    user = seed.user
    workflow = Workflow.objects.filter(owner=user, name=name, archived_at__isnull=True).first()
    if workflow is None:
        workflow = workflow_create(owner=user, name=name, description=description, definition=definition)
        seed.changes[name] = "created"
    elif workflow.current_version and workflow.current_version.definition != definition:
        workflow = workflow_update(workflow=workflow, user=user, definition=definition)
        seed.changes[name] = "updated"
    else:
        seed.changes[name] = "unchanged"
    seed.workflows[name] = workflow


def demo_run(seed: DemoSeed) -> Any:
    """Queues one execution of the triage workflow with an angry ticket."""
    execution, _ = execution_create(
        user=seed.user, workflow_id=seed.workflows[TRIAGE].id, inputs={"message": ANGRY_TICKET}
    )
    return execution


def emulator_fault_for_unavailable_model() -> str:
    """Makes a running provider emulator fail UNAVAILABLE_MODEL with a 404, as a real vendor
    would; says what happened. Faults live in the emulator's memory: seed again after it restarts."""
    provider, model = UNAVAILABLE_MODEL.split("/", 1)
    conf = settings.AI_PROVIDERS["PROVIDERS"][provider]
    if not conf.get("emulated"):
        return f"{provider} is a real provider: {model} fails there by itself."
    emulator_url = conf["base_url"].removesuffix("/" + provider)
    try:
        response = httpx.post(
            f"{emulator_url}/_emulator/faults",
            json={"provider": provider, "model": model, "status": 404, "times": None},
            timeout=2,
            trust_env=False,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        return f"the emulator did not take the fault ({exc}); run seed_demo again once it is up."
    return f"the emulator now answers {UNAVAILABLE_MODEL} with 404, so the review falls back to {FALLBACK_MODEL}."
