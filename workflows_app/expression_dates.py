"""Dates and durations for expressions. Values go in and come out as ISO 8601 text (or
numbers for Unix timestamps): a datetime object never leaves the sandbox, so results stay
JSON data. A time without an offset is read as UTC; every result carries its offset."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows_app.expression_values import ExpressionError, describe

MAX_DATE_TEXT = 100
MAX_FORMAT_CHARS = 200
MAX_TIMEZONE_CHARS = 64
# strftime directives that mean the same on every platform and locale; %c, %x, %X (the
# locale's own formats) and platform extensions such as %-d are refused.
FORMAT_DIRECTIVES = frozenset("aAbBdHIjmMpSfyYzZ%")
_DIRECTIVE = re.compile(r"%(.?)")
_TIMEZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


def _zone(name: Any) -> tzinfo:
    """An IANA timezone by name ("Europe/Paris", "UTC")."""
    if not isinstance(name, str) or not name or len(name) > MAX_TIMEZONE_CHARS or not _TIMEZONE_NAME.fullmatch(name):
        raise ExpressionError(f"{name!r} is not an IANA timezone name such as 'Europe/Paris'")
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ExpressionError(f"unknown timezone {name!r}") from None


def _check_format(fmt: Any, name: str) -> str:
    if not isinstance(fmt, str) or not fmt or len(fmt) > MAX_FORMAT_CHARS:
        raise ExpressionError(f"{name} format must be text of 1 to {MAX_FORMAT_CHARS} characters")
    for directive in _DIRECTIVE.findall(fmt):
        if directive not in FORMAT_DIRECTIVES:
            allowed = " ".join(f"%{d}" for d in sorted(FORMAT_DIRECTIVES))
            raise ExpressionError(f"{name} format: %{directive} is not supported; use {allowed}")
    return fmt


def _parse(value: Any, name: str, fmt: Any = None) -> datetime:
    """A time from ISO text (or text in fmt) or a Unix timestamp; UTC when it has no offset."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ExpressionError(f"{name}: the timestamp is not a finite number")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ExpressionError(f"{name}: the timestamp is out of range") from None
    if not isinstance(value, str):
        raise ExpressionError(f"{name} needs a date as ISO 8601 text or a timestamp, not {describe(value)}")
    if len(value) > MAX_DATE_TEXT:
        raise ExpressionError(f"{name}: a date is at most {MAX_DATE_TEXT} characters")
    try:
        if fmt is None:
            parsed = datetime.fromisoformat(value.strip())
        else:
            parsed = datetime.strptime(value, _check_format(fmt, name))
    except ValueError:
        expected = "ISO 8601" if fmt is None else f"the format {fmt!r}"
        raise ExpressionError(f"{name}: {value!r} is not a date in {expected}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_time(value: Any, name: str = "time") -> datetime:
    """A moment from ISO 8601 text or a Unix timestamp, aware (UTC when it has no offset);
    ExpressionError otherwise. For nodes that take a time (WAIT's `until`)."""
    return _parse(value, name)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _now(zone: Any = "UTC") -> str:
    """`'UTC' | now`: the current time in that timezone (calls are refused, so a filter)."""
    return _iso(datetime.now(_zone(zone)))


def _to_datetime(value: Any, fmt: Any = None) -> str:
    """ISO text, text in a strptime format, or a Unix timestamp, as ISO 8601 text."""
    return _iso(_parse(value, "to_datetime", fmt))


def _to_timestamp(value: Any) -> float | int:
    """Seconds since 1970-01-01 UTC: a difference of two is a duration in seconds."""
    seconds = _parse(value, "to_timestamp").timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def _format_datetime(value: Any, fmt: Any) -> str:
    moment = _parse(value, "format_datetime")
    return moment.strftime(_check_format(fmt, "format_datetime"))


def _add_duration(value: Any, days: Any = 0, hours: Any = 0, minutes: Any = 0, seconds: Any = 0) -> str:
    """The time moved by a duration (negative moves back), in its own offset."""
    parts = {"days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
    for part, amount in parts.items():
        if not isinstance(amount, int | float) or isinstance(amount, bool) or not math.isfinite(amount):
            raise ExpressionError(f"add_duration {part} must be a number, not {describe(amount)}")
    moment = _parse(value, "add_duration")
    try:
        return _iso(moment + timedelta(**parts))
    except (OverflowError, ValueError):
        raise ExpressionError("add_duration: the date would be out of range (years 1 to 9999)") from None


def _in_timezone(value: Any, zone: Any) -> str:
    """The same instant as seen in an IANA timezone."""
    moment = _parse(value, "in_timezone")
    try:
        return _iso(moment.astimezone(_zone(zone)))
    except (OverflowError, ValueError):
        raise ExpressionError("in_timezone: the date is out of range") from None


DATE_FILTERS = {
    "now": _now,
    "to_datetime": _to_datetime,
    "to_timestamp": _to_timestamp,
    "format_datetime": _format_datetime,
    "add_duration": _add_duration,
    "in_timezone": _in_timezone,
}
