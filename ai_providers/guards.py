"""What decides, in Redis shared by every worker, whether a provider may be called now:
cooling after a long Retry-After, the circuit breaker per provider and model, and the
quotas per provider (rpm, tpm, rpd, tpd) and per user (AI calls per day).

`admit` checks all of them and reserves the quota in one Lua script (one round trip),
the user's daily call included on a node call's first admission;
`settle` reconciles tokens and moves the breaker after the call. A Redis outage fails
open: the call goes ahead unguarded and the outage is logged. The keys, scripts and
windows underneath are in guard_redis.py."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from ai_providers import usage
from ai_providers.base import CompletionResult
from ai_providers.guard_redis import (
    DAY_KEY_GRACE_MS,
    MINUTE_KEY_GRACE_MS,
    Windows,
    _script,
    _script_after,
    quota_keys,
    redis_connection,
    redis_key,
)
from ai_providers.overrides import QUOTA_NAMES, admin_overrides
from ai_providers.router import ChainLink

logger = logging.getLogger(__name__)

_ADMIT = """
if ARGV[12] then
  -- the user's daily call rides along with the first admission of a node's call
  local used = tonumber(redis.call('GET', KEYS[9]) or '0')
  local limit = tonumber(ARGV[12])
  if limit > 0 and used >= limit then return {'user_quota', -1} end
  if redis.call('INCR', KEYS[9]) == 1 then redis.call('EXPIRE', KEYS[9], ARGV[13]) end
end
local cooling = redis.call('PTTL', KEYS[1])
if cooling > 0 then return {'cooling', cooling} end
local open = redis.call('PTTL', KEYS[3])
if open > 0 then return {'circuit_open', open} end
local failures = tonumber(redis.call('GET', KEYS[2]) or '0')
local probing = failures >= tonumber(ARGV[1])
local estimate = tonumber(ARGV[7])
local adds = {1, estimate, 1, estimate}
local names = {'quota_rpm', 'quota_tpm', 'quota_rpd', 'quota_tpd'}
for i = 1, 4 do
  local limit = tonumber(ARGV[2 + i])
  if limit > 0 then
    local used = tonumber(redis.call('GET', KEYS[4 + i]) or '0')
    -- a prompt larger than the whole token window may still go alone
    if used + adds[i] > limit and (i % 2 == 1 or used > 0) then
      return {names[i], tonumber(i <= 2 and ARGV[10] or ARGV[11])}
    end
  end
end
if probing then
  -- half-open: one probe for all workers, until it answers or its lock expires
  if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then
    return {'circuit_open', redis.call('PTTL', KEYS[4])}
  end
end
for i = 1, 4 do
  redis.call('INCRBY', KEYS[4 + i], adds[i])
  if redis.call('PTTL', KEYS[4 + i]) < 0 then redis.call('PEXPIRE', KEYS[4 + i], i <= 2 and ARGV[8] or ARGV[9]) end
end
if probing then return {'probe', 0} end
return {'ok', 0}
"""

_FAIL = """
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 86400)
-- only the probe's own answer frees the probe lock: a call admitted before the circuit
-- opened must not let a second probe through
if ARGV[3] == '1' then redis.call('DEL', KEYS[3]) end
if failures >= tonumber(ARGV[1]) then redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) end
return failures
"""

_USER_CALL = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
if limit > 0 and used >= limit then return -1 end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return used
"""


def breaker_keys(link: ChainLink) -> tuple[str, str, str]:
    """(consecutive failures, open until expiry, half-open probe lock)."""
    return (
        redis_key("breaker", link.provider, link.model, "failures"),
        redis_key("breaker", link.provider, link.model, "open"),
        redis_key("breaker", link.provider, link.model, "probe"),
    )


def cooling_key(provider: str) -> str:
    return redis_key("cooling", provider)


@dataclass
class Admission:
    """Whether a call may go ahead; when not, why (`code`) and when to try again."""

    allowed: bool
    code: str = ""
    retry_after_s: float = 0.0
    probe: bool = False
    estimate: int = 0
    keys: list[str] = field(default_factory=list)  # the quota windows reserved, to reconcile
    windows: Windows | None = None  # of the quota keys and the user's counted call
    # With user_id: True when the user's call was counted, None when Redis could not count it.
    user_reserved: bool | None = False


def admit(
    link: ChainLink, estimated_tokens: int, user_id: object = None, then: Callable[[Any], None] | None = None
) -> Admission:
    """`user_id` also counts that user's daily call first (code "user_quota" when spent).
    `then(pipe)` adds commands of the caller's to the same round trip (a node's `running`
    event), sent before the script runs."""
    conf = settings.AI_PROVIDERS
    quotas = admin_overrides().quota_limits(link.provider)  # the admin's, else the settings'
    windows = Windows.now()
    failures, opened, probe = breaker_keys(link)
    keys = quota_keys(link.provider, windows)
    probe_ttl_ms = int((conf["TIMEOUT_S"] + conf["CONNECT_TIMEOUT_S"] + 5) * 1000)
    arguments = [
        conf["BREAKER_THRESHOLD"],
        probe_ttl_ms,
        *(quotas[name] for name in QUOTA_NAMES),
        estimated_tokens,
        windows.minute_left_ms + MINUTE_KEY_GRACE_MS,
        windows.day_left_ms + DAY_KEY_GRACE_MS,
        windows.minute_left_ms,
        windows.day_left_ms,
    ]
    all_keys = [cooling_key(link.provider), failures, opened, probe, *keys]
    if user_id is not None:
        all_keys.append(user_calls_key(user_id, windows))
        arguments += [conf["USER_CALLS_PER_DAY"], windows.day_left_ms // 1000 + 60]
    try:
        if then is None:
            status, wait_ms = _script(_ADMIT)(keys=all_keys, args=arguments)
        else:
            status, wait_ms = _script_after(then, _ADMIT, all_keys, arguments)
    except RedisError:
        logger.warning("redis unavailable; calling %s without quota or breaker checks", link.provider)
        return Admission(allowed=True, user_reserved=None if user_id is not None else False)
    status = status.decode() if isinstance(status, bytes) else status
    counted = user_id is not None and status != "user_quota"
    if status in ("ok", "probe"):
        return Admission(
            allowed=True,
            probe=status == "probe",
            estimate=estimated_tokens,
            keys=keys,
            windows=windows,
            user_reserved=counted,
        )
    return Admission(
        allowed=False,
        code=status,
        retry_after_s=max(0.001, int(wait_ms) / 1000),
        windows=windows,
        user_reserved=counted,
    )


def settle(
    link: ChainLink,
    admission: Admission,
    *,
    outcome: str,
    used_tokens: int = 0,
    then: Callable[[Any], None] | None = None,
) -> None:
    """After a call: reconcile reserved tokens with `used_tokens` and move the breaker.
    outcome: "success" closes it, "failure" counts towards opening it, "neutral" (rate
    limits, quota, bad requests: not the provider's health) only frees a probe.
    `then(pipe)` adds more commands (the usage counters) to the same round trip."""
    conf = settings.AI_PROVIDERS
    failures, opened, probe = breaker_keys(link)
    try:
        redis = redis_connection()
        pipe = redis.pipeline(transaction=False)
        if then is not None:
            then(pipe)
        if admission.keys and admission.windows and used_tokens != admission.estimate:
            tokens_keys = (admission.keys[1], admission.keys[3])
            for key, expiry_ms in zip(tokens_keys, admission.windows.key_expiry_ms, strict=True):
                pipe.incrby(key, used_tokens - admission.estimate)
                pipe.pexpireat(key, expiry_ms)
        if outcome == "success":
            pipe.delete(failures, opened, *([probe] if admission.probe else []))
        elif outcome == "failure":
            cooldown_ms = int(conf["BREAKER_COOLDOWN_S"] * 1000)
            redis.register_script(_FAIL)(
                keys=[failures, opened, probe],
                args=[conf["BREAKER_THRESHOLD"], cooldown_ms, int(admission.probe)],
                client=pipe,
            )
        elif admission.probe:
            pipe.delete(probe)
        pipe.execute()
    except RedisError:
        logger.warning("redis unavailable; %s breaker and token counts not updated", link)


def settle_answered(
    link: ChainLink,
    admission: Admission,
    result: CompletionResult,
    used: int,
    latency_ms: int,
    error_code: str | None = None,
) -> None:
    """settle() for a call that got an answer, with its usage counters in the same round
    trip (an unusable answer, `error_code`, costs nothing in the counters)."""

    def count(pipe: object) -> None:
        cost = 0.0 if error_code else result.cost_usd
        usage.queue_call(
            pipe,
            link.provider,
            link.model,
            latency_ms=latency_ms,
            error_code=error_code,
            usage=result.usage,
            cost=cost,
        )

    settle(link, admission, outcome="success", used_tokens=used, then=count)


def cool(provider: str, seconds: float) -> None:
    """Marks a provider as not to be called for `seconds` (a long Retry-After, a spent quota)."""
    try:
        redis_connection().set(cooling_key(provider), "1", px=max(1, int(seconds * 1000)))
    except RedisError:
        logger.warning("redis unavailable; %s not marked cooling", provider)


def user_calls_key(user_id: object, windows: Windows) -> str:
    return redis_key("user_calls", user_id, windows.day)


def reserve_user_call(user_id: object, windows: Windows) -> int | None:
    """Counts one AI call for the user in `windows`' day; -1 when the day's quota is
    spent, None when unguarded."""
    limit = settings.AI_PROVIDERS["USER_CALLS_PER_DAY"]
    try:
        key = user_calls_key(user_id, windows)
        return int(_script(_USER_CALL)(keys=[key], args=[limit, windows.day_left_ms // 1000 + 60]))
    except RedisError:
        logger.warning("redis unavailable; user AI quota not checked")
        return None


def refund_user_call(user_id: object, windows: Windows) -> None:
    """Gives back a call counted in `windows`' day: on that day's key, even after midnight
    (a refund must not be a bonus call on the next day)."""
    key = user_calls_key(user_id, windows)
    try:
        pipe = redis_connection().pipeline(transaction=False)
        pipe.decr(key)
        pipe.pexpireat(key, windows.key_expiry_ms[1])
        pipe.execute()
    except RedisError:
        logger.warning("redis unavailable; user AI call not refunded")
