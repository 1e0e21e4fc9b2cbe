"""OpenRouter through the openai SDK (GLM-4.5-Air, Kimi Dev 72B, Qwen 2.5 72B and any
other model it routes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import openai

from ai_providers.adapters.openai_style import OpenAIStyleProvider
from ai_providers.registry import register

if TYPE_CHECKING:
    from types import ModuleType


@register
class OpenRouter(OpenAIStyleProvider):
    name = "openrouter"
    sdk: ClassVar[ModuleType] = openai

    def build_client(self) -> openai.OpenAI:
        # The key and base URL are passed explicitly so OPENAI_* variables never leak in;
        # retries are ours (fallback), not the SDK's.
        return openai.OpenAI(
            api_key=self.config.api_key,
            base_url=self.config.base_url,
            timeout=openai.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
            max_retries=0,
            default_headers={"X-Title": "Switchboard"},
        )
