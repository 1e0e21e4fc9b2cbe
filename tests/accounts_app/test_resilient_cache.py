"""config/resilient_cache.py against a real Redis that is stopped under it."""

from __future__ import annotations

import logging
import time

import pytest

from config.resilient_cache import cache_available, cache_call, cache_delete, cache_get, cache_set

pytestmark = pytest.mark.django_db


def test_get_set_delete_work_while_redis_answers():
    assert cache_set("resilient:k", {"a": 1}, 60) is True
    assert cache_get("resilient:k") == {"a": 1}
    assert cache_delete("resilient:k") is True
    assert cache_get("resilient:k", "missing") == "missing"


def test_an_outage_answers_defaults_logs_and_never_raises(cache_on_own_redis, caplog):
    cache_on_own_redis.kill()

    with caplog.at_level(logging.WARNING, logger="config.resilient_cache"):
        got = cache_get("resilient:k", "fallback")
        stored = cache_set("resilient:k", 1, 60)
        deleted = cache_delete("resilient:k")
        counted = cache_call(lambda c: c.incr("resilient:n"), default=None, what="incr")

    assert (got, stored, deleted, counted) == ("fallback", False, False, None)
    assert "Cache unavailable during get" in caplog.text
    # One warning, then the cache is skipped for a while instead of failing on every call.
    assert len([r for r in caplog.records if r.name == "config.resilient_cache"]) == 1
    assert not cache_available()


def test_the_cache_is_tried_again_after_the_retry_interval(cache_on_own_redis, settings):
    settings.CACHE_OUTAGE_RETRY_S = 0.2
    cache_on_own_redis.stop()
    cache_get("resilient:k")
    cache_on_own_redis.start()

    assert cache_set("resilient:k", "skipped", 60) is False  # still inside the interval
    time.sleep(0.3)
    assert cache_set("resilient:k", "stored", 60) is True
    assert cache_get("resilient:k") == "stored"


def test_deletes_lost_in_an_outage_are_replayed_when_redis_returns(cache_on_own_redis, settings):
    settings.CACHE_OUTAGE_RETRY_S = 0
    cache_set("resilient:stale", "old", 600)
    cache_on_own_redis.stop()

    assert cache_delete("resilient:stale") is False
    cache_on_own_redis.start()

    assert cache_get("resilient:stale") is None
