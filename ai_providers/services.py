"""The one entry point for an AI call: route, guard, call, fall back (docs/concepts/ai-providers.md).

`complete_with_fallback` is thread-safe (the `ai` queue runs a thread pool): all shared
state lives in Redis, and SDK clients are built once per process under a lock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, NoReturn

from django.conf import settings

from ai_providers import guards, usage
from ai_providers.adapters.errors import NOT_PROVIDER_ERRORS, unforeseen
from ai_providers.base import Completion, CompletionResult, Provider
from ai_providers.errors import (
    AllProvidersUnavailable,
    BadRequest,
    InvalidModelResponse,
    ModelUnsuitable,
    NodeDeadlineReached,
    ProviderError,
    ProvidersNotConfigured,
    QuotaExhausted,
    Retryable,
    UserQuotaExceeded,
)
from ai_providers.interpret import interpreted, prepared_for
from ai_providers.registry import get_provider
from ai_providers.response_cache import cached_response, store_response
from ai_providers.router import ChainLink, provider_chain_for

logger = logging.getLogger(__name__)
# What to do after a provider did not answer usefully.
_NEXT, _AGAIN, _AGAIN_IF_LAST = "next", "again", "again_if_last"


def complete_with_fallback(
    *,
    task_type: str,
    request: Completion,
    chain_override: list[str] | None = None,
    user_id: object,
    attempt_log: list[dict],
    deadline: float | None = None,
    announce: Callable[[Any], None] | None = None,
    deferred: list[Callable[[], None]] | None = None,
) -> CompletionResult:
    """Answers `request` with the first provider of the task's chain that can.

    Every provider tried or passed over is appended to `attempt_log` as
    `{n, provider, model, error_code?, latency_ms}` (passed-over entries carry
    `skipped: true`: no call was made). Raises BadRequest (and its InvalidJsonResponse /
    InvalidSentimentResponse), UserQuotaExceeded and ProvidersNotConfigured, which a retry
    cannot fix, or AllProvidersUnavailable(retry_after_s, attempts), which a later retry can.

    `deadline` (a time.monotonic() value, the node's) bounds the whole chain: each call gets
    min(TIMEOUT_S, time left), and NodeDeadlineReached is raised once no time is left.

    `announce(pipe)` adds the caller's commands to the first admission's round trip (the
    node's `running` event). With `deferred`, the bookkeeping after an answer (breaker,
    token reconciliation, usage counters) is appended there for the caller to run once
    it has recorded the answer, instead of delaying the answer by a round trip.
    """
    try:
        chain = provider_chain_for(task_type, chain_override)
    except ValueError as exc:
        raise BadRequest("router", str(exc), code="invalid_providers") from None
    request = replace(request, task_type=task_type)
    fallback = _FallbackRun(chain, request, attempt_log, deadline, user_id)
    fallback.announce, fallback.deferred = announce, deferred
    try:
        return fallback.run()
    except (AllProvidersUnavailable, ProvidersNotConfigured, NodeDeadlineReached, BadRequest) as exc:
        # Nobody answered (a refusal is no answer; a model's unusable answer is one): not counted.
        answered = isinstance(exc, InvalidModelResponse)
        if fallback.user_counted and fallback.user_windows and not answered:
            guards.refund_user_call(user_id, fallback.user_windows)
        raise


def estimate_tokens(request: Completion) -> int:
    """Reserved before the call, reconciled with the real usage after it."""
    return len(request.all_text()) // 4 + 1 + (request.max_tokens or settings.AI_PROVIDERS["DEFAULT_MAX_TOKENS"])


class _FallbackRun:
    def __init__(
        self,
        chain: list[ChainLink],
        request: Completion,
        attempt_log: list[dict],
        deadline: float | None,
        user_id: object = None,
    ):
        self.chain, self.request, self.attempt_log, self.deadline = chain, request, attempt_log, deadline
        # The user's daily call is counted once, with the first admission (one round trip
        # for both), or on its own before a cached answer; refunded if nobody answers.
        self.user_id, self.user_pending, self.user_counted = user_id, user_id is not None, False
        self.user_windows: guards.Windows | None = None  # the day the user's call counted in
        self.first_entry = len(attempt_log)
        self.retry_hints: list[float] = []
        self.waited: set[ChainLink] = set()
        self.invalid_answers = 0
        self.conf = settings.AI_PROVIDERS
        self.announce: Callable[[Any], None] | None = None
        self.deferred: list[Callable[[], None]] | None = None

    def _log(self, link: ChainLink, *, latency_ms: int, error_code: str | None = None, **extra: object) -> None:
        entry: dict = {"n": len(self.attempt_log) + 1, "provider": link.provider, "model": link.model}
        if error_code:
            entry["error_code"] = error_code
        entry["latency_ms"] = latency_ms
        entry.update(extra)
        self.attempt_log.append(entry)

    def _skip(self, link: ChainLink, code: str, retry_after_s: float | None = None) -> None:
        self._log(link, latency_ms=0, error_code=code, skipped=True)
        usage.record_skip(link.provider, code)
        if retry_after_s is not None:
            self.retry_hints.append(retry_after_s)

    def _count_user_call(self) -> None:
        if self.user_pending:
            self.user_windows = guards.Windows.now()
            used = guards.reserve_user_call(self.user_id, self.user_windows)
            self._user_counted(used != -1, used is not None)

    def _user_counted(self, allowed: bool, counted: bool | None) -> None:
        if not allowed:
            raise UserQuotaExceeded(self.conf["USER_CALLS_PER_DAY"])
        self.user_pending, self.user_counted = False, bool(counted)

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def run(self) -> CompletionResult:
        queue = list(self.chain)
        index = 0
        while index < len(queue):
            link = queue[index]
            index += 1
            provider = get_provider(link.provider)
            if not provider.configured:
                self._skip(link, "not_configured")
                continue
            if provider.classifies(link.model) and self.request.task_type != "sentiment_analysis":
                self._skip(link, "model_unsuitable")  # a misrouted chain: no quota, no call
                continue
            request = prepared_for(self.request, provider, link)
            hit = cached_response(link, request, self.user_id)
            if hit is not None:
                self._count_user_call()
                self._log(link, latency_ms=0, cached=True)
                hit.fallback_used = link != self.chain[0]
                return hit
            left = self._time_left()
            if left is not None and left <= 0:
                raise NodeDeadlineReached(attempts=self.attempt_log[self.first_entry :])
            announce, self.announce = self.announce, None
            admission = guards.admit(
                link, estimate_tokens(request), self.user_id if self.user_pending else None, then=announce
            )
            if self.user_pending:
                self.user_windows = admission.windows
                self._user_counted(admission.code != "user_quota", admission.user_reserved)
            if not admission.allowed:
                self._skip(link, admission.code, admission.retry_after_s)
                continue
            outcome = self._call(provider, link, request, admission)
            if isinstance(outcome, CompletionResult):
                return outcome
            if outcome == _AGAIN or (outcome == _AGAIN_IF_LAST and index >= len(queue)):
                queue.insert(index, link)
        return self._give_up()

    def _call(
        self, provider: Provider, link: ChainLink, request: Completion, admission: guards.Admission
    ) -> CompletionResult | str:
        """The result, or what to do next: _NEXT link, this link _AGAIN, or (after an invalid
        answer) the next link or this one _AGAIN_IF_LAST."""
        left = self._time_left()
        timeout_s = None if left is None or left >= self.conf["TIMEOUT_S"] else max(0.001, left)
        started = time.monotonic()
        try:
            result = provider.complete(request, timeout_s=timeout_s)
        except InvalidModelResponse as exc:  # the vendor itself refused the model's answer (Groq's JSON check)
            latency_ms = int((time.monotonic() - started) * 1000)
            usage.record_call(link.provider, link.model, latency_ms=latency_ms, error_code=exc.code)
            # The provider answered (it is healthy) and generated: the reserved tokens stay spent.
            guards.settle(link, admission, outcome="success", used_tokens=admission.estimate)
            return self._invalid_answer(link, exc, latency_ms)
        except ProviderError as exc:
            # A timeout within a budget the deadline cut short is not the provider's fault.
            cut_short = timeout_s is not None and exc.code == "timeout"
            return self._failed(link, exc, admission, int((time.monotonic() - started) * 1000), not_health=cut_short)
        except NOT_PROVIDER_ERRORS:
            guards.settle(link, admission, outcome="neutral")  # frees a probe lock and the reserved tokens
            raise
        except Exception as exc:  # an adapter let something through: still a failed call, still settled
            error = unforeseen(link.provider, link.model, exc)
            return self._failed(link, error, admission, int((time.monotonic() - started) * 1000))
        latency_ms = int((time.monotonic() - started) * 1000)
        used = result.usage.input_tokens + result.usage.output_tokens
        result.cost_usd = usage.cost_usd(link.provider, link.model, result.usage)
        # One round trip: the breaker, the token reconciliation and the usage counters.
        settle = guards.settle_answered
        try:
            result = interpreted(result, request)
        except InvalidModelResponse as exc:
            settle(link, admission, result, used, latency_ms, error_code=exc.code)
            return self._invalid_answer(link, exc, latency_ms)
        except BaseException:
            guards.settle(link, admission, outcome="neutral")  # frees a probe lock and the reserved tokens
            raise
        if self.deferred is None:
            settle(link, admission, result, used, latency_ms)
        else:
            self.deferred.append(partial(settle, link, admission, result, used, latency_ms))
        self._log(link, latency_ms=latency_ms)
        result.latency_ms, result.fallback_used = latency_ms, link != self.chain[0]
        store_response(link, request, result, self.user_id)
        return result

    def _invalid_answer(self, link: ChainLink, exc: InvalidModelResponse, latency_ms: int) -> str:
        """An answer that is not what was asked for is asked again once: of the next
        provider, or of this one when it is the last; a second one fails the call."""
        self._log(link, latency_ms=latency_ms, error_code=exc.code)
        self.invalid_answers += 1
        if self.invalid_answers >= 2:
            exc.details = {"attempts": self.attempt_log[self.first_entry :]}
            raise exc from None
        return _AGAIN_IF_LAST

    def _failed(
        self,
        link: ChainLink,
        exc: ProviderError,
        admission: guards.Admission,
        latency_ms: int,
        *,
        not_health: bool = False,
    ) -> str:
        self._log(link, latency_ms=latency_ms, error_code=exc.code)
        usage.record_call(link.provider, link.model, latency_ms=latency_ms, error_code=exc.code)
        logger.info("AI attempt %s failed (%s): %s", link, exc.code, exc.message)
        # Rate limits, spent quotas, bad requests and misrouted tasks say nothing about the provider's health.
        not_health = (
            not_health or isinstance(exc, BadRequest | QuotaExhausted | ModelUnsuitable) or exc.code == "rate_limited"
        )
        guards.settle(link, admission, outcome="neutral" if not_health else "failure")
        if isinstance(exc, BadRequest):
            exc.details = {"attempts": self.attempt_log[self.first_entry :]}
            raise exc
        if isinstance(exc, QuotaExhausted):
            cooldown = exc.retry_after or self.conf["QUOTA_COOLDOWN_S"]
            guards.cool(link.provider, cooldown)
            self.retry_hints.append(cooldown)
            return _NEXT
        if exc.retry_after is None:
            if isinstance(exc, Retryable):  # a 5xx or a timeout says nothing about when: the default wait
                self.retry_hints.append(self.conf["ALL_DOWN_RETRY_S"])
            return _NEXT
        left = self._time_left()
        if exc.retry_after > self.conf["MAX_RETRY_AFTER_WAIT_S"]:
            guards.cool(link.provider, exc.retry_after)
        elif link not in self.waited and (left is None or exc.retry_after < left):
            self.waited.add(link)
            time.sleep(exc.retry_after)
            return _AGAIN
        self.retry_hints.append(exc.retry_after)
        return _NEXT

    def _give_up(self) -> NoReturn:
        attempts = self.attempt_log[self.first_entry :]
        if attempts and all(a.get("error_code") == "not_configured" for a in attempts):
            raise ProvidersNotConfigured([str(link) for link in self.chain], attempts)
        left = self._time_left()
        if left is not None and left <= 0:  # the last call ran into the deadline: say so, not "unavailable"
            raise NodeDeadlineReached(attempts=attempts)
        hints = [h for h in self.retry_hints if h > 0]
        retry_after_s = round(max(1.0, min(hints)), 3) if hints else self.conf["ALL_DOWN_RETRY_S"]
        raise AllProvidersUnavailable(retry_after_s=retry_after_s, attempts=attempts)
