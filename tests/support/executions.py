"""Reading executions as a client does: their node runs, status and event stream; and an
execution that stays queued."""

from __future__ import annotations

import json

from django.test import Client
from rest_framework.test import APIClient

from tests.support.definitions import edge, input_node, node

SSE = "text/event-stream"


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
