from __future__ import annotations

import pytest

from tests.support.workers import worker_process

pytestmark = pytest.mark.worker_process

LOADED = "Loaded the AI provider adapters (gemini, groq, huggingface, openai_compatible, openrouter)"


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_ai_queue_loads_the_provider_sdks_before_its_first_node() -> None:
    """About a second of imports that the first AI node after a restart would otherwise
    wait out; a worker that serves no AI node never pays their memory."""
    with worker_process(queues="ai", pool="threads", concurrency=4) as ai, worker_process(queues="nodes") as nodes:
        ai_log, nodes_log = ai.log(), nodes.log()

    assert LOADED in ai_log
    # Before the worker took work: the line precedes Celery's "ready".
    assert ai_log.index(LOADED) < ai_log.index(" ready.")
    assert "Loaded the AI provider adapters" not in nodes_log
