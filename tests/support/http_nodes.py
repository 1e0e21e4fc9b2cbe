"""HTTP_REQUEST workflows for the tests: one call and what it reaches, a credential made
through the API and a workflow that sends it every way a secret may go."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.support.definitions import edge, input_node, node

# Retries quick enough for a test: 3 attempts, 50-100 ms apart.
FAST_RETRY = {"max_attempts": 3, "backoff_s": 0.05, "max_backoff_s": 0.1}


def one_call(make_workflow: Any, config: dict, inputs: dict | None = None, **options: Any) -> str:
    return make_workflow(
        [
            input_node(**(inputs or {})),
            node("call", "HTTP_REQUEST", config, **options),
            node("result", "OUTPUT", {"value": "{{ nodes.call.output }}"}),
        ],
        [edge("start", "call"), edge("call", "result")],
    )


SECRET = 'sk-live-Zq9/x+Y&w=1 "q"'  # characters that URL and JSON encoding change


def create_credential(client: APIClient, name: str = "api_token", value: str = SECRET, **extra: Any) -> Any:
    return client.post("/api/credentials", {"name": name, "value": value, **extra}, format="json")


def secret_workflow(make_workflow: Any, url: str, **config: Any) -> str:
    return make_workflow(
        [
            input_node(),
            node(
                "call",
                "HTTP_REQUEST",
                {
                    "method": "POST",
                    "url": url,
                    "headers": {"Authorization": "Bearer {{ secrets.api_token }}"},
                    "query": {"key": "{{ secrets.api_token }}"},
                    "json": {"token": "{{ secrets.api_token }}", "note": "plain"},
                    **config,
                },
            ),
            node("result", "OUTPUT", {"value": "{{ nodes.call.output }}"}),
        ],
        [edge("start", "call"), edge("call", "result")],
    )
