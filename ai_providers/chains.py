"""A provider chain: "provider/model" entries, checked against the registry."""

from __future__ import annotations

from dataclasses import dataclass

from ai_providers.registry import get_provider, provider_names

MAX_CHAIN_LENGTH = 8


@dataclass(frozen=True)
class ChainLink:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


def parse_link(entry: object) -> ChainLink:
    """One chain entry, "provider/model"; the model may hold slashes
    ("openrouter/qwen/qwen-2.5-72b-instruct"). A bare provider name means its default model."""
    if not isinstance(entry, str) or not entry.strip():
        raise ValueError('Each provider is a "provider/model" string.')
    provider, _, model = entry.strip().partition("/")
    if provider not in provider_names():
        raise ValueError(f"Unknown provider {provider!r}; known: {', '.join(provider_names())}.")
    model = model or (get_provider(provider).default_model() or "")
    if not model:
        raise ValueError(f'{entry!r} names no model; write "{provider}/<model>".')
    return ChainLink(provider, model)


def parse_chain(entries: object) -> list[ChainLink]:
    if not isinstance(entries, list) or not entries:
        raise ValueError("A provider chain is a non-empty list.")
    if len(entries) > MAX_CHAIN_LENGTH:
        raise ValueError(f"A provider chain has at most {MAX_CHAIN_LENGTH} entries.")
    return [parse_link(entry) for entry in entries]
