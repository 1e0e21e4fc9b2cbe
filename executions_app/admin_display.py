"""How the admin shows times, JSON and durations: display methods any app's admin uses
(the executions', the triggers')."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString


def to_the_millisecond(value: datetime | None) -> str:
    """A time as `2026-01-02 03:04:05.678 UTC` ("-" when unset): node runs are milliseconds
    apart, so the admin's minute-only dates tell them nothing."""
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def indented_json(value: Any) -> SafeString:
    """A JSON value indented in a <pre>, escaped: outputs are user data."""
    if value is None:
        return format_html("{}", "-")
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


def json_display(field: str) -> Callable[[Any, Any], SafeString]:
    """An admin display method showing the JSON field `field` indented."""

    @admin.display(description=field.replace("_", " "))
    def shown(self: Any, obj: Any) -> SafeString:
        return indented_json(getattr(obj, field))

    return shown


def time_display(field: str) -> Callable[[Any, Any], str]:
    """An admin display method showing the time field `field` to the millisecond."""

    @admin.display(description=field.replace("_", " "), ordering=field)
    def shown(self: Any, obj: Any) -> str:
        return to_the_millisecond(getattr(obj, field))

    return shown


def in_seconds(milliseconds: int | None) -> str:
    """A duration short enough for a list column: `1.25 s` ("-" when not ended)."""
    if milliseconds is None:
        return "-"
    return f"{milliseconds / 1000:.2f} s"
