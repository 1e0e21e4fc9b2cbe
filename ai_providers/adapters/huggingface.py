"""Hugging Face Inference Providers through huggingface_hub's InferenceClient: text
classification for classifier models (sentiment with label and score), chat otherwise."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError

from ai_providers.adapters.errors import (
    MALFORMED_REPLY_ERRORS,
    NOT_PROVIDER_ERRORS,
    from_status,
    malformed,
    missing_key,
    unforeseen,
    vendor_message,
)
from ai_providers.base import Completion, CompletionResult, Provider, Usage, cached_client
from ai_providers.errors import ModelUnsuitable
from ai_providers.interpret import sentiment_from_classifier_label
from ai_providers.registry import register


@register
class HuggingFace(Provider):
    name = "huggingface"

    def classifies(self, model: str) -> bool:
        return model in self.config.options.get("classifiers", ())

    def build_client(self, timeout_s: float | None = None) -> tuple[InferenceClient, InferenceClient]:
        # Two clients: chat posts under base_url; classification posts to a full model URL.
        timeout = timeout_s if timeout_s is not None else self.config.timeout_s
        chat = InferenceClient(base_url=self.config.base_url, api_key=self.config.api_key, timeout=timeout)
        classify = InferenceClient(api_key=self.config.api_key, timeout=timeout)
        return chat, classify

    def complete(self, request: Completion, *, timeout_s: float | None = None) -> CompletionResult:
        if not self.configured:
            raise missing_key(self.name)
        if self.classifies(request.model) and request.task_type != "sentiment_analysis":
            # A chain that routes another task here is misconfigured, not a bad request:
            # the next provider in the chain may still answer (ModelUnsuitable is AuthOrConfig).
            message = f"{request.model} is a text classifier: it answers sentiment_analysis only."
            raise ModelUnsuitable(self.name, message, model=request.model)
        if timeout_s is None or timeout_s >= self.config.timeout_s:
            chat, classify = cached_client(self.config, self.build_client)
        else:
            # InferenceClient has no per-call timeout; a client is cheap (the HTTP session is shared).
            chat, classify = self.build_client(timeout_s)
        try:
            if self.classifies(request.model):
                return self._classify(classify, request)
            return self._chat(chat, request)
        except HfHubHTTPError as exc:
            response = exc.response
            raise from_status(
                self.name,
                request.model,
                response.status_code,
                message=exc.server_message or vendor_message(_body_text(response)),
                headers=response.headers,
            ) from None
        except MALFORMED_REPLY_ERRORS:
            raise malformed(self.name, request.model) from None
        except NOT_PROVIDER_ERRORS:
            raise
        except Exception as exc:
            raise unforeseen(self.name, request.model, exc) from None

    def _classify(self, client: InferenceClient, request: Completion) -> CompletionResult:
        text = request.user_text()
        url = f"{self.config.base_url}/hf-inference/models/{request.model}"
        ranked = client.text_classification(text, model=url)
        top = max(ranked, key=lambda element: element.score)
        label = sentiment_from_classifier_label(str(top.label))
        return CompletionResult(
            text=label or str(top.label),
            provider=self.name,
            model=request.model,
            usage=Usage(input_tokens=max(1, len(text.split())), output_tokens=0),
            label=label,
            score=round(float(top.score), 4),
            emulated=self.config.emulated,
        )

    def _chat(self, client: InferenceClient, request: Completion) -> CompletionResult:
        arguments: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or settings.AI_PROVIDERS["DEFAULT_MAX_TOKENS"],
        }
        if request.temperature is not None:
            arguments["temperature"] = request.temperature
        if request.json_mode:
            arguments["response_format"] = {"type": "json_object"}
        reply = client.chat_completion(request.chat_messages(), **arguments)
        usage = Usage(reply.usage.prompt_tokens or 0, reply.usage.completion_tokens or 0) if reply.usage else Usage()
        text = reply.choices[0].message.content or ""
        return CompletionResult(
            text=text, provider=self.name, model=request.model, usage=usage, emulated=self.config.emulated
        )


def _body_text(response: Any) -> str:
    try:
        return response.text
    except Exception:  # a streamed body that was never read
        return ""
