"""Hugging Face Inference Providers through huggingface_hub's InferenceClient: text
classification for classifier models (sentiment with label and score), chat otherwise."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError

from ai_providers.adapters.errors import (
    MALFORMED_REPLY_ERRORS,
    from_status,
    from_transport,
    malformed,
    missing_key,
    vendor_message,
)
from ai_providers.base import Completion, CompletionResult, Provider, Usage, cached_client
from ai_providers.errors import BadRequest
from ai_providers.interpret import sentiment_from_classifier_label
from ai_providers.registry import register


@register
class HuggingFace(Provider):
    name = "huggingface"

    def classifies(self, model: str) -> bool:
        return model in self.config.options.get("classifiers", ())

    def build_client(self) -> tuple[InferenceClient, InferenceClient]:
        # Two clients: chat posts under base_url; classification posts to a full model URL.
        chat = InferenceClient(
            base_url=self.config.base_url, api_key=self.config.api_key, timeout=self.config.timeout_s
        )
        classify = InferenceClient(api_key=self.config.api_key, timeout=self.config.timeout_s)
        return chat, classify

    def complete(self, request: Completion) -> CompletionResult:
        if not self.configured:
            raise missing_key(self.name)
        chat, classify = cached_client(self.config, self.build_client)
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
        except Exception as exc:
            mapped = from_transport(self.name, request.model, exc)
            if mapped is None:
                raise
            raise mapped from None

    def _classify(self, client: InferenceClient, request: Completion) -> CompletionResult:
        if request.task_type != "sentiment_analysis":
            raise BadRequest(
                self.name,
                f"{request.model} is a text classifier: it answers sentiment_analysis only.",
                model=request.model,
            )
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
        if request.response_format == "json":
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
