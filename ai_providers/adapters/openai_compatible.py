"""Any server speaking the OpenAI chat completions API (Ollama, vLLM, LM Studio), through
the openai SDK. OPENAI_COMPATIBLE_BASE_URL is trusted because an operator set it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import openai

from ai_providers.adapters.openai_style import OpenAIStyleProvider
from ai_providers.registry import register

if TYPE_CHECKING:
    from types import ModuleType


@register
class OpenAICompatible(OpenAIStyleProvider):
    name = "openai_compatible"
    sdk: ClassVar[ModuleType] = openai

    def build_client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=self.config.api_key,
            base_url=self.config.base_url,
            timeout=openai.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
            max_retries=0,
        )
