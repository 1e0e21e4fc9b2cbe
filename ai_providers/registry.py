"""Provider names to adapter classes. Adding a provider: one module in adapters/ with
`@register`, and its name in ADAPTER_MODULES."""

from __future__ import annotations

import importlib

from ai_providers.base import Provider, ProviderConfig

ADAPTER_MODULES = ("gemini", "groq", "huggingface", "openrouter", "openai_compatible")
_classes: dict[str, type[Provider]] = {}


def register(cls: type[Provider]) -> type[Provider]:
    _classes[cls.name] = cls
    return cls


def _load() -> dict[str, type[Provider]]:
    if len(_classes) < len(ADAPTER_MODULES):
        for module in ADAPTER_MODULES:
            importlib.import_module(f"ai_providers.adapters.{module}")
    return _classes


def provider_names() -> tuple[str, ...]:
    return tuple(sorted(_load()))


def get_provider(name: str) -> Provider:
    """The adapter for `name` on the current settings (cheap: SDK clients are cached)."""
    classes = _load()
    if name not in classes:
        raise KeyError(name)
    return classes[name](ProviderConfig.from_settings(name))
