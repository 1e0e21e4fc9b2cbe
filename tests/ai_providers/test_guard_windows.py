"""What the guards leave in Redis when calls outlive their windows or race the breaker:
nothing that never expires, and never a second half-open probe."""

from __future__ import annotations

import dataclasses
import time

import pytest
from django_redis import get_redis_connection

from ai_providers import guards
from ai_providers.router import ChainLink

pytestmark = pytest.mark.server

GEMINI = ChainLink("gemini", "gemini-2.5-flash")


USER_ID = 2_000_000_011


def windows_of(seconds_ago: float) -> guards.Windows:
    now = time.time() - seconds_ago
    return guards.Windows(
        minute=int(now // 60),
        day=time.strftime("%Y%m%d", time.gmtime(now)),
        minute_left_ms=int((60 - now % 60) * 1000) + 1,
        day_left_ms=int((86400 - now % 86400) * 1000) + 1,
        day_ends_at_ms=int(now // 86400 + 1) * 86_400_000,
    )


def test_tokens_reconciled_after_their_window_ended_leave_no_key_behind(ai_settings):
    """A long call admitted in one minute and settled in the next (or after midnight)
    corrects a window whose key has expired: that must not recreate it without a TTL."""
    ai_settings["PROVIDERS"]["gemini"]["quotas"].update(tpm=100_000, tpd=1_000_000)
    redis = get_redis_connection("default")
    admission = guards.admit(GEMINI, 2_000)
    assert admission.allowed
    # The same admission as seen by a call that started two days ago and ends now.
    old = windows_of(2 * 86400)
    stale = dataclasses.replace(admission, windows=old, keys=guards.quota_keys("gemini", old))

    guards.settle(GEMINI, stale, outcome="success", used_tokens=40)
    guards.settle(GEMINI, admission, outcome="success", used_tokens=40)

    assert not any(redis.exists(key) for key in stale.keys)
    live_ttls = [redis.pttl(key) for key in admission.keys]
    assert all(ttl > 0 for ttl in live_ttls), live_ttls
    assert int(redis.get(admission.keys[1])) == 40


def test_calls_admitted_before_the_circuit_opened_do_not_free_the_probe(ai_settings):
    ai_settings.update(BREAKER_THRESHOLD=2, BREAKER_COOLDOWN_S=0.2)
    # Two long calls, admitted while the circuit was closed.
    rate_limited, slow = guards.admit(GEMINI, 10), guards.admit(GEMINI, 10)
    for _ in range(2):
        guards.settle(GEMINI, guards.admit(GEMINI, 10), outcome="failure")
    assert guards.admit(GEMINI, 10).code == "circuit_open"
    time.sleep(0.3)
    probe = guards.admit(GEMINI, 10)
    assert probe.allowed and probe.probe

    # Both end while the probe is in flight: neither lets a second probe through.
    guards.settle(GEMINI, rate_limited, outcome="neutral")
    assert guards.admit(GEMINI, 10).code == "circuit_open"
    guards.settle(GEMINI, slow, outcome="failure")  # opens the circuit again, for its cooldown
    time.sleep(0.3)
    assert guards.admit(GEMINI, 10).code == "circuit_open"

    guards.settle(GEMINI, probe, outcome="success")
    assert guards.admit(GEMINI, 10).allowed


def test_a_call_refunded_after_midnight_is_given_back_to_its_own_day(ai_settings):
    redis = get_redis_connection("default")
    # No user the other tests create has this id: their calls of the day before midnight
    # would otherwise be found under "yesterday" when the suite runs across midnight.
    yesterday, today = windows_of(86400), guards.Windows.now()
    assert guards.reserve_user_call(USER_ID, today) == 1

    guards.refund_user_call(USER_ID, yesterday)  # counted before midnight, nobody answered

    assert int(redis.get(guards.user_calls_key(USER_ID, today))) == 1  # no bonus call today
    assert not redis.exists(guards.user_calls_key(USER_ID, yesterday))  # and nothing left forever
