"""Response renderers. Kept apart from core.api for the reason core/parsers.py gives:
DRF imports renderer classes while rest_framework.views itself is being imported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers


class _EscapingJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, but text holding a lone surrogate is written as its escape
    (\\ud800) instead of failing the response with a 500. A request body may carry one as
    a JSON escape, and an error echoes it back: an unknown field's name, say. Strict UTF-8
    cannot encode it; JSON's ASCII escapes can."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _EscapingJSONRenderer().render(data, accepted_media_type, renderer_context)
