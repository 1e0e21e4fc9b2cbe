"""core/resilient_cache.py against a real Redis that is stopped under it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from core.resilient_cache import cache_available, cache_call, cache_delete, cache_get, cache_set
from development.embedded_redis import free_port
from tests.support.workers import ROOT, session_database_url

pytestmark = pytest.mark.django_db


def test_get_set_delete_work_while_redis_answers():
    assert cache_set("resilient:k", {"a": 1}, 60) is True
    assert cache_get("resilient:k") == {"a": 1}
    assert cache_delete("resilient:k") is True
    assert cache_get("resilient:k", "missing") == "missing"


@pytest.mark.server
def test_an_outage_answers_defaults_logs_and_never_raises(cache_on_own_redis, caplog):
    cache_on_own_redis.kill()

    with caplog.at_level(logging.WARNING, logger="core.resilient_cache"):
        got = cache_get("resilient:k", "fallback")
        stored = cache_set("resilient:k", 1, 60)
        deleted = cache_delete("resilient:k")
        counted = cache_call(lambda c: c.incr("resilient:n"), default=None, what="incr")

    assert (got, stored, deleted, counted) == ("fallback", False, False, None)
    assert "Cache unavailable during get" in caplog.text
    # One warning, then the cache is skipped for a while instead of failing on every call.
    assert len([r for r in caplog.records if r.name == "core.resilient_cache"]) == 1
    assert not cache_available()


@pytest.mark.server
def test_the_cache_is_tried_again_after_the_retry_interval(cache_on_own_redis, settings):
    settings.CACHE_OUTAGE_RETRY_S = 0.2
    cache_on_own_redis.stop()
    cache_get("resilient:k")
    cache_on_own_redis.start()

    assert cache_set("resilient:k", "skipped", 60) is False  # still inside the interval
    time.sleep(0.3)
    assert cache_set("resilient:k", "stored", 60) is True
    assert cache_get("resilient:k") == "stored"


@pytest.mark.server
def test_deletes_lost_in_an_outage_are_replayed_when_redis_returns(cache_on_own_redis, settings):
    settings.CACHE_OUTAGE_RETRY_S = 0
    cache_set("resilient:stale", "old", 600)
    cache_on_own_redis.stop()

    assert cache_delete("resilient:stale") is False
    cache_on_own_redis.start()

    assert cache_get("resilient:stale") is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_command_that_ends_with_undelivered_invalidations_says_so(user):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    env = {**os.environ, "DATABASE_URL": session_database_url(), "REDIS_URL": dead_redis}
    deactivate = (
        "from accounts_app.services import user_deactivate; from accounts_app.models import User; "
        f"user_deactivate(user=User.objects.get(pk={user.pk}))"
    )

    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", deactivate],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "cache invalidations Redis never received" in done.stderr
    assert "for up to 3600 s" in done.stderr
