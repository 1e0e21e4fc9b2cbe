from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.accounts_app.factories import UserFactory
from tests.executions_app import conftest as executions
from tests.executions_app.conftest import edge, input_node, node

# Shared fixtures: a user, its API client, workflows and runs, the provider emulator.
user, client, make_workflow, run = executions.user, executions.client, executions.make_workflow, executions.run
ai_settings, emulator = executions.ai_settings, executions.emulator


@pytest.fixture
def staff_user(transactional_db) -> Any:
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff_user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(staff_user)
    return api


@pytest.fixture
def divide_workflow(make_workflow: Callable[..., str]) -> str:
    """Completes for any n but 0; n = 0 fails the `divide` node."""
    return make_workflow(
        [
            input_node(n={"type": "integer", "required": True}),
            node("divide", "TRANSFORM", {"value": "{{ 10 / inputs.n }}"}),
            node("result", "OUTPUT", {"value": "{{ nodes.divide.output }}"}),
        ],
        [edge("start", "divide"), edge("divide", "result")],
        name="divide",
    )
