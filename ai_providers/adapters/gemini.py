"""Google Gemini through google-genai. The Client is kept alive for the process: a
throw-away `genai.Client(...).models.generate_content(...)` fails with "client has been closed"."""

from __future__ import annotations

from django.conf import settings
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from ai_providers.adapters.errors import (
    MALFORMED_REPLY_ERRORS,
    NOT_PROVIDER_ERRORS,
    from_status,
    malformed,
    missing_key,
    unforeseen,
)
from ai_providers.base import Completion, CompletionResult, Provider, Usage, cached_client
from ai_providers.registry import register


@register
class Gemini(Provider):
    name = "gemini"

    def build_client(self) -> genai.Client:
        options = types.HttpOptions(
            base_url=self.config.base_url,
            api_version=self.config.options.get("api_version", "v1beta"),
            timeout=int(self.config.timeout_s * 1000),  # milliseconds; no retry_options: one attempt
        )
        return genai.Client(api_key=self.config.api_key, http_options=options)

    @property
    def client(self) -> genai.Client:
        return cached_client(self.config, self.build_client)

    def complete(self, request: Completion, *, timeout_s: float | None = None) -> CompletionResult:
        if not self.configured:
            raise missing_key(self.name)
        model = request.model
        messages = request.chat_messages()
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        contents = [
            types.Content(role="model" if m["role"] == "assistant" else "user", parts=[types.Part(text=m["content"])])
            for m in messages
            if m["role"] != "system"
        ]
        config = types.GenerateContentConfig(
            system_instruction=system or None,
            temperature=request.temperature,
            max_output_tokens=request.max_tokens or settings.AI_PROVIDERS["DEFAULT_MAX_TOKENS"],
            response_mime_type="application/json" if request.json_mode else None,
            # A shorter budget for this call only; merged over the client's options by the SDK.
            http_options=types.HttpOptions(timeout=max(1, int(timeout_s * 1000))) if timeout_s is not None else None,
        )
        try:
            reply = self.client.models.generate_content(model=model, contents=contents, config=config)
        except genai_errors.APIError as exc:
            headers = exc.response.headers if getattr(exc, "response", None) is not None else None
            raise from_status(
                self.name, model, exc.code or 500, message=exc.message or "", headers=headers, body=exc.details
            ) from None
        except MALFORMED_REPLY_ERRORS:
            raise malformed(self.name, model) from None
        except NOT_PROVIDER_ERRORS:
            raise
        except Exception as exc:
            raise unforeseen(self.name, model, exc) from None
        try:
            text = reply.text or ""
            meta = reply.usage_metadata
            # Thinking tokens are billed as output.
            output_tokens = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0) if meta else 0
            usage = Usage(meta.prompt_token_count or 0, output_tokens) if meta else Usage()
        except MALFORMED_REPLY_ERRORS:
            raise malformed(self.name, model) from None
        return CompletionResult(text=text, provider=self.name, model=model, usage=usage, emulated=self.config.emulated)
