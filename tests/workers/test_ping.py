from __future__ import annotations

import pytest

from config.celery import app
from tests.workers_support import ping_workers


def test_celery_is_configured_for_durability() -> None:
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_always_eager is False
    assert not conf.result_backend
    assert {q.name for q in conf.task_queues} == {"default", "nodes", "ai"}


def test_task_names_are_stable() -> None:
    """A rename would strand messages already queued under the old name."""
    app.loader.import_default_modules()
    assert "workers.ping" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_in_process_worker_answers_ping_through_redis(celery_worker) -> None:
    ping_workers(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_worker_process_answers_ping_through_redis(worker_processes) -> None:
    ping_workers(timeout=10)
