"""The error classes every adapter speaks (docs/concepts/ai-providers.md): an SDK's exceptions are mapped to
these inside the adapter, so the router and the engine never see vendor types.

Messages are for users: they never carry a key (see `redact`)."""

from __future__ import annotations

from typing import Any

from core.api import AppError


class ProviderError(AppError):
    """One provider call failed. `retryable` says whether another try (here or on the next
    provider) can succeed."""

    status_code = 502
    code = "provider_error"
    retryable = True

    def __init__(
        self,
        provider: str,
        message: str | None = None,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        model: str | None = None,
    ):
        super().__init__(message or self.message, code=code)
        self.provider, self.model, self.retry_after = provider, model, retry_after


class Retryable(ProviderError):
    """A timeout, a refused connection, a 429 or a 5xx: the next provider may answer."""

    code = "provider_unavailable"
    message = "The provider did not answer."


class QuotaExhausted(ProviderError):
    """The vendor says the account's quota or credits are spent."""

    code = "quota_exhausted"
    message = "The provider's quota is spent."


class AuthOrConfig(ProviderError):
    """401/403 or a missing key: this provider cannot answer until its settings change."""

    code = "auth_failed"
    message = "The provider refused the credentials."


class ModelUnsuitable(AuthOrConfig):
    """The chain routes a task to a model that cannot do it (a text classifier asked to
    write): a configuration problem, so the next provider is tried; not the provider's
    health, so its breaker does not count it."""

    code = "model_unsuitable"
    message = "This model cannot answer this task type."


class BadRequest(ProviderError):
    """The request itself is wrong (400): no provider will accept it, the node fails at once."""

    status_code = 400
    code = "bad_request"
    message = "The provider refused the request as invalid."
    retryable = False


class InvalidModelResponse(BadRequest):
    """The model answered, twice, with something that is not what was asked for."""

    status_code = 502
    code = "invalid_response"


class InvalidJsonResponse(InvalidModelResponse):
    code = "invalid_json"
    message = "The model's answer is not valid JSON."


class EmptyResponse(InvalidModelResponse):
    code = "empty_response"
    message = "The model answered with no text (its output token limit may have run out first: raise max_tokens)."


class InvalidSentimentResponse(InvalidModelResponse):
    code = "invalid_sentiment"
    message = "The model's answer is not a sentiment label."


class UserQuotaExceeded(AppError):
    """The user's AI calls per day are spent; retrying today does not help."""

    status_code = 429
    code = "ai_user_quota_exceeded"
    retryable = False

    def __init__(self, limit: int):
        super().__init__(
            f"You have used your {limit} AI calls for today; the quota resets at midnight UTC.",
            details={"limit": limit},
        )


class ProvidersNotConfigured(AppError):
    """No provider in the chain has a key (or a base URL): nothing to call, nothing to retry."""

    status_code = 503
    code = "ai_providers_not_configured"
    retryable = False

    def __init__(self, chain: list[str], attempts: list[dict[str, Any]]):
        super().__init__(
            f"No provider in the chain {', '.join(chain)} is configured; set a key or SWITCHBOARD_EMULATOR_URL.",
            details={"attempts": attempts},
        )
        self.attempts = attempts


class AllProvidersUnavailable(AppError):
    """Every provider in the chain failed, is cooling, has its circuit open or its quota
    spent. The engine retries the node after `retry_after_s` while it has attempts left."""

    status_code = 503
    code = "ai_providers_unavailable"
    retryable = True

    def __init__(self, *, retry_after_s: float, attempts: list[dict[str, Any]]):
        codes = ", ".join(f"{a['provider']}/{a['model']}: {a.get('error_code', 'ok')}" for a in attempts)
        super().__init__(
            f"No AI provider could answer ({codes}).",
            details={"retry_after_s": retry_after_s, "attempts": attempts},
        )
        self.retry_after_s, self.attempts = retry_after_s, attempts


class NodeDeadlineReached(AppError):
    """The node's `timeout_s` ran out before a provider answered; the chain stops there
    rather than outlive the node's lease (another worker would then run the node again).

    Same code and retryability as the engine's own `node_timeout` (a node stopped by
    Celery's time limit): the next attempt gets a fresh deadline, and a slow provider is
    usually a passing condition; the node's max_attempts bounds the retries."""

    status_code = 504
    code = "node_timeout"
    retryable = True

    def __init__(self, *, attempts: list[dict[str, Any]]):
        codes = ", ".join(f"{a['provider']}/{a['model']}: {a.get('error_code', 'ok')}" for a in attempts)
        tried = f" after trying {codes}" if attempts else " before any provider was called"
        super().__init__(
            f"The node's time limit ran out{tried}; raise the node's timeout_s or shorten its provider chain.",
            details={"attempts": attempts},
        )
        self.attempts = attempts
