from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.definitions import edge, input_node, node


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
