from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts_app.factories import UserFactory
from tests.ai_providers.conftest import ai_settings, emulator  # noqa: F401 - fixtures for AI nodes
from tests.executions_app.http_test_server import LocalHttpServer, allow, running_test_server

SSE = "text/event-stream"


def node(node_id: str, node_type: str, config: dict | None = None, **extra: Any) -> dict:
    return {"id": node_id, "type": node_type, "config": config or {}, **extra}


def edge(source: str, target: str, branch: str | None = None) -> dict:
    found = {"source": source, "target": target}
    if branch is not None:
        found["branch"] = branch
    return found


def input_node(**fields: dict) -> dict:
    return node("start", "INPUT", {"fields": fields})


@pytest.fixture
def user(transactional_db) -> Any:
    return UserFactory()


@pytest.fixture
def client(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def browser(user: Any) -> Client:
    """Like EventSource: the session cookie, Accept: text/event-stream."""
    client = Client(HTTP_ACCEPT=SSE)
    client.force_login(user)
    return client


@pytest.fixture
def make_workflow(client: APIClient) -> Callable[..., str]:
    def create(nodes: list[dict], edges: list[dict], name: str = "wf") -> str:
        response = client.post(
            "/api/workflows", {"name": name, "definition": {"nodes": nodes, "edges": edges}}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    return create


@pytest.fixture
def run(client: APIClient) -> Callable[..., Any]:
    def execute(workflow_id: str, inputs: dict | None = None, wait: float | None = 30, **headers: str) -> Any:
        body: dict[str, Any] = {"workflow_id": workflow_id, "inputs": inputs or {}}
        if wait is not None:
            body["wait"] = wait
        return client.post("/api/executions", body, format="json", headers=headers)

    return execute


def nodes_by_id(execution: dict) -> dict[str, dict]:
    return {n["node_id"]: n for n in execution["nodes"]}


def queued_execution(user) -> str:
    """An execution of `user` that stays queued (no worker runs here)."""
    api = APIClient()
    api.force_authenticate(user)
    definition = {"nodes": [input_node(), node("result", "OUTPUT", {"value": 1})], "edges": [edge("start", "result")]}
    workflow = api.post("/api/workflows", {"name": "wf", "definition": definition}, format="json")
    assert workflow.status_code == 201, workflow.content
    execution = api.post("/api/executions", {"workflow_id": workflow.json()["id"], "inputs": {}}, format="json")
    assert execution.status_code == 202, execution.content
    return execution.json()["id"]


def events_url(execution_id: str) -> str:
    return f"/api/executions/{execution_id}/events"


@pytest.fixture
def server(settings) -> Iterator[LocalHttpServer]:
    """A local HTTP server that HTTP_REQUEST nodes may reach (it is on the allow-list)."""
    with running_test_server() as running:
        allow(settings, f"127.0.0.1:{running.port}")
        yield running


def status_of(client, execution_id: str) -> dict:
    """The execution as GET /api/executions/{id} answers it."""
    return client.get(f"/api/executions/{execution_id}").json()


def read_events(client: Client, execution_id: str, last_event_id: str | None = None) -> list[tuple[str, dict]]:
    """An execution's event stream read to its end: (id, event) pairs."""
    headers = {"HTTP_LAST_EVENT_ID": last_event_id} if last_event_id else {}
    response = client.get(f"/api/executions/{execution_id}/events", HTTP_ACCEPT="text/event-stream", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    body = b"".join(response.streaming_content).decode()
    found = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            found.append((fields["id"], json.loads(fields["data"])))
    return found
