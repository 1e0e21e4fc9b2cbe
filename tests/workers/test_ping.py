from __future__ import annotations

import pytest
from django.core.checks.registry import registry

from config.celery import app
from executions_app.engine.publish import NODE_TASK
from tests.support.workers import ping_workers
from workers.checks import check_visibility_timeout, longest_unacked_s


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


def test_the_default_visibility_timeout_outlasts_the_longest_node_and_backoff() -> None:
    assert check_visibility_timeout in registry.get_checks()  # run by manage.py check and at start
    assert check_visibility_timeout() == []
    # Off by default; an operator who turns ack emulation on gets a timeout that fits.
    assert app.conf.broker_transport_options["ack_emulation"] is False
    assert app.conf.broker_transport_options["visibility_timeout"] > longest_unacked_s()


def test_a_visibility_timeout_below_the_longest_node_and_backoff_fails_the_checks(settings) -> None:
    limits = settings.SWITCHBOARD
    # The schema lets a node run as long as the execution and back off up to 3600 s.
    needed = limits.execution_timeout_s + limits.lease_grace_s + 3600
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"ack_emulation": True, "visibility_timeout": needed}

    [error] = check_visibility_timeout()

    assert error.id == "config.E001"
    assert "SWITCHBOARD_VISIBILITY_TIMEOUT_S" in error.hint
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"ack_emulation": True, "visibility_timeout": needed + 1}
    assert check_visibility_timeout() == []
    # Without ack emulation the broker redelivers nothing, so no timeout can be too short.
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"ack_emulation": False, "visibility_timeout": 60}
    assert check_visibility_timeout() == []


def test_task_names_are_stable() -> None:
    """A rename would strand messages already queued under the old name."""
    app.loader.import_default_modules()
    for name in (
        "workers.ping",
        "workers.node_run",
        "workers.sweep",
        "workers.prune_executions",
        "workers.prune_trigger_logs",
    ):
        assert name in app.tasks, name
        assert app.tasks[name].name == name
    # What beat and the engine send must be the names the workers register.
    assert {entry["task"] for entry in app.conf.beat_schedule.values()} == {
        "workers.sweep",
        "workers.prune_executions",
        "workers.prune_trigger_logs",
    }
    assert NODE_TASK == "workers.node_run"


@pytest.mark.worker_thread
@pytest.mark.django_db(transaction=True)
def test_in_process_worker_answers_ping_through_redis(celery_worker) -> None:
    ping_workers(timeout=10)


@pytest.mark.worker_process
@pytest.mark.django_db(transaction=True)
def test_worker_process_answers_ping_through_redis(worker_processes) -> None:
    ping_workers(timeout=10)
