"""When a schedule fires: a cron expression in an IANA timezone (cronsim, which follows
cron's own DST rules: a time skipped in spring fires when the clocks jump, one repeated
in autumn fires once), or a fixed interval counted from the schedule's anchor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError

# The aliases cron knows; cronsim reads fields only.
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Fields: 5 (minute first) or 6 (a leading seconds field, for second-granular schedules).
FIELD_COUNTS = (5, 6)
MAX_INTERVAL_S = 366 * 86400


class ScheduleSpecError(ValueError):
    """A cron expression, interval or timezone that cannot be used; `field` names which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Timing:
    cron: str
    interval_s: int | None
    timezone: str
    # Interval ticks are anchor + k * interval_s: editing nothing keeps them in step.
    anchor: dt.datetime

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first fire time strictly after `moment` (aware, returned in UTC)."""
        if self.interval_s:
            elapsed = (moment - self.anchor).total_seconds()
            steps = int(elapsed // self.interval_s) + 1 if elapsed >= 0 else 0
            return (self.anchor + dt.timedelta(seconds=steps * self.interval_s)).astimezone(dt.UTC)
        local = moment.astimezone(self.zone())
        # cronsim starts at the next whole second after `local`'s own second.
        return next(CronSim(expand(self.cron), local)).astimezone(dt.UTC)

    def upcoming(self, moment: dt.datetime, count: int) -> list[dt.datetime]:
        times: list[dt.datetime] = []
        for _ in range(count):
            moment = self.next_after(moment)
            times.append(moment)
        return times


def expand(cron: str) -> str:
    text = " ".join(cron.split())
    return ALIASES.get(text.lower(), text)


def check(cron: str, interval_s: int | None, timezone: str) -> None:
    """ScheduleSpecError unless exactly one of cron and interval_s is given and each part
    is usable."""
    if bool(cron.strip()) == bool(interval_s):
        raise ScheduleSpecError("cron", "Give either `cron` or `interval_s`, not both and not neither.")
    if timezone not in _zones():
        raise ScheduleSpecError("timezone", f"{timezone!r} is not an IANA timezone (such as Europe/Berlin).")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleSpecError("timezone", f"{timezone!r} is not an IANA timezone.") from None
    if interval_s is not None and not 1 <= interval_s <= MAX_INTERVAL_S:
        raise ScheduleSpecError("interval_s", f"The interval must be 1 to {MAX_INTERVAL_S} seconds.")
    if cron.strip():
        text = expand(cron)
        if len(text.split()) not in FIELD_COUNTS:
            raise ScheduleSpecError(
                "cron",
                "A cron expression has 5 fields (minute hour day month weekday), 6 with seconds first, "
                "or is an alias such as @hourly.",
            )
        try:
            CronSim(text, dt.datetime(2000, 1, 1, tzinfo=ZoneInfo(timezone)))
        except CronSimError as exc:
            raise ScheduleSpecError("cron", f"Not a cron expression: {exc}.") from None


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES
