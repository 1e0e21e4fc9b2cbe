"""Request parsers. Kept apart from core.api: DRF imports parser classes while
rest_framework.views itself is being imported, and core.api imports that module."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from rest_framework import exceptions, parsers

if TYPE_CHECKING:
    from collections.abc import Mapping


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested deeper than Python's recursion limit is a 400
    parse error instead of a 500."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
