"""Groq through its official SDK (Llama 3.1 8B Instant for quick decisions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import groq

from ai_providers.adapters.openai_style import OpenAIStyleProvider
from ai_providers.registry import register

if TYPE_CHECKING:
    from types import ModuleType


@register
class Groq(OpenAIStyleProvider):
    name = "groq"
    sdk: ClassVar[ModuleType] = groq

    def build_client(self) -> groq.Groq:
        return groq.Groq(
            api_key=self.config.api_key,
            base_url=self.config.base_url,
            timeout=groq.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
            max_retries=0,
        )
