"""What a late claim does: which tick fires, which ticks count as missed, and the next
fire time. A schedule is late when the clock was down (or behind) past the schedule's
`misfire_grace_s`; the catch-up policy then fires at most one run, never a storm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cronsim import CronSim

from triggers_app.models import CatchUp
from triggers_app.schedules.timing import Timing, expand

# The missed ticks are counted by walking them; past this many the count says "at least"
# (a one-second schedule down for a week has 600,000 of them).
MISSED_WALK_CAP = 10_000


@dataclass(frozen=True, slots=True)
class Missed:
    first: dt.datetime
    last: dt.datetime
    count: int
    at_least: bool  # the walk stopped at MISSED_WALK_CAP: there were `count` or more


@dataclass(frozen=True, slots=True)
class Plan:
    fire_at: dt.datetime | None  # the tick to fire now; None: none (all of them missed)
    missed: Missed | None
    next_fire_at: dt.datetime  # always after `now`, or the next tick after a timely one


def plan(timing: Timing, claimed_at: dt.datetime, now: dt.datetime, grace_s: int, catch_up: str) -> Plan:
    """`claimed_at` is the schedule's due `next_fire_at`. Within the grace it simply fires.
    Past it, every tick up to `now` is due: `run_once` fires the latest of them and counts
    the others as missed; `skip_missed` fires the latest only while it is within the grace
    itself, and counts the rest as missed."""
    grace = dt.timedelta(seconds=grace_s)
    if claimed_at >= now - grace:
        return Plan(claimed_at, None, timing.next_after(claimed_at))
    ticks = [claimed_at]
    at_least = False
    while True:
        following = timing.next_after(ticks[-1])
        if following > now:
            break
        if len(ticks) >= MISSED_WALK_CAP:
            at_least = True
            break
        ticks.append(following)
    latest = latest_at_or_before(timing, now) if at_least else ticks[-1]
    fires = catch_up == CatchUp.RUN_ONCE or latest >= now - grace
    if not at_least:
        missed_ticks = ticks[:-1] if fires else ticks
        missed = Missed(missed_ticks[0], missed_ticks[-1], len(missed_ticks), False) if missed_ticks else None
    else:
        # The walk did not reach `latest`: the missed run ends at the tick before it (or
        # at it, when it does not fire either).
        last = latest_at_or_before(timing, latest - dt.timedelta(seconds=1)) if fires else latest
        missed = Missed(ticks[0], last, len(ticks), True)
    return Plan(latest if fires else None, missed, timing.next_after(latest))


def latest_at_or_before(timing: Timing, moment: dt.datetime) -> dt.datetime:
    """The last tick at or before `moment` (only asked after a long walk: the schedule has
    ticks before it)."""
    if timing.interval_s:
        steps = int((moment - timing.anchor).total_seconds() // timing.interval_s)
        return (timing.anchor + dt.timedelta(seconds=steps * timing.interval_s)).astimezone(dt.UTC)
    # cronsim's reverse walk starts strictly before a whole second: start one second past
    # `moment`'s own second so that a tick at that very second counts.
    start = moment.astimezone(timing.zone()).replace(microsecond=0) + dt.timedelta(seconds=1)
    return next(CronSim(expand(timing.cron), start, reverse=True)).astimezone(dt.UTC)
