from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from tests.workers_support import in_process_worker, worker_process


@pytest.fixture(scope="session", autouse=True)
def _drop_session_redis_keys() -> Iterator[None]:
    """Leaves nothing of this session in a shared Redis."""
    yield
    try:
        redis = get_redis_connection("default")
        for key in redis.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=1000):
            redis.delete(key)
    except Exception:
        pass


@pytest.fixture(scope="session", autouse=True)
def _release_test_database(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """Ends the connections that worker threads and processes left open on this session's
    PostgreSQL database, so pytest-django can drop it instead of leaving it behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _clear_cache_and_throttles() -> None:
    from django.core.cache import cache

    from ai_providers import local_memo

    local_memo.forget_all()

    # Messages a test left queued (executions it never ran) must not reach the next
    # test's workers: only this session's queues, never another session's.
    get_redis_connection("default").delete(*(f"{settings.REDIS_KEY_PREFIX}:{q}" for q in ("default", "nodes", "ai")))

    # Only this session's cache keys: django-redis's cache.clear() is FLUSHDB, which would
    # wipe the broker queues of every other session sharing the Redis.
    cache.delete_pattern("*")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A real worker in this process, consuming from the real broker."""
    with in_process_worker() as worker:
        yield worker


@pytest.fixture
def worker_processes(transactional_db) -> Iterator[object]:
    """A real `celery worker` process (prefork, 2 children) on the test database."""
    with worker_process() as worker:
        yield worker
