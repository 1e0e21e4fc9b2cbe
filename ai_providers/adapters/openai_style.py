"""Chat completions on the OpenAI wire format, shared by the adapters whose SDK has the
OpenAI client shape (openai for OpenRouter and OpenAI-compatible servers, groq)."""

from __future__ import annotations

from types import ModuleType
from typing import Any, ClassVar

from django.conf import settings

from ai_providers.adapters.errors import (
    MALFORMED_REPLY_ERRORS,
    NOT_PROVIDER_ERRORS,
    from_status,
    malformed,
    missing_key,
    unforeseen,
)
from ai_providers.base import Completion, CompletionResult, Provider, Usage, cached_client
from ai_providers.errors import Retryable


class OpenAIStyleProvider(Provider):
    """Subclasses name the SDK module and build its client; the call and the error mapping
    are the same for every SDK generated from the OpenAI API shape."""

    sdk: ClassVar[ModuleType]

    def build_client(self) -> Any:
        raise NotImplementedError

    @property
    def client(self) -> Any:
        return cached_client(self.config, self.build_client)

    def chat_arguments(self, request: Completion) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "model": request.model,
            "messages": request.chat_messages(),
            "max_tokens": request.max_tokens or settings.AI_PROVIDERS["DEFAULT_MAX_TOKENS"],
        }
        if request.temperature is not None:
            arguments["temperature"] = request.temperature
        if request.json_mode:
            arguments["response_format"] = {"type": "json_object"}
        return arguments

    def complete(self, request: Completion, *, timeout_s: float | None = None) -> CompletionResult:
        if not self.configured:
            raise missing_key(self.name)
        sdk, model = self.sdk, request.model
        arguments = self.chat_arguments(request)
        if timeout_s is not None:  # this call only; the client keeps its configured timeout
            arguments["timeout"] = sdk.Timeout(timeout_s, connect=min(timeout_s, self.config.connect_timeout_s))
        try:
            reply = self.client.chat.completions.create(**arguments)
        except sdk.APIStatusError as exc:
            body = getattr(exc, "body", None)
            raise from_status(
                self.name,
                model,
                exc.status_code,
                message=_status_message(exc),
                headers=exc.response.headers,
                body=body,
            ) from None
        except sdk.APITimeoutError:
            raise Retryable(self.name, f"{self.name} did not answer in time.", code="timeout", model=model) from None
        except sdk.APIConnectionError:
            message = f"{self.name} could not be reached."
            raise Retryable(self.name, message, code="connection_error", model=model) from None
        except MALFORMED_REPLY_ERRORS:
            raise malformed(self.name, model) from None
        except NOT_PROVIDER_ERRORS:
            raise
        except Exception as exc:
            raise unforeseen(self.name, model, exc) from None
        try:
            text = reply.choices[0].message.content or ""
            usage = (
                Usage(reply.usage.prompt_tokens or 0, reply.usage.completion_tokens or 0) if reply.usage else Usage()
            )
        except MALFORMED_REPLY_ERRORS:
            raise malformed(self.name, model) from None
        return CompletionResult(text=text, provider=self.name, model=model, usage=usage, emulated=self.config.emulated)


def _status_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return str(getattr(exc, "message", "") or "")
