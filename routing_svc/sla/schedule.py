"""When a clock is due, when it warns, and when each rung of its escalation ladder fires: pure calendar arithmetic.

A clock of N working days started at ``t`` is due at the end of the Nth working day after ``t``'s local date (see
shared/calendar.py), moved on by the working time it spent paused. It warns when 80% of its working time is gone.

The ladder (ARCHITECTURE.md "Deadlines"), one rung per breach:

- a node's clocks (first response, resolution): level 1, the node's liaison, when the clock breaches; level 2, the
  parent node, ``escalation_interval_days`` working days later; level 3, the hub's coordinators, as much again;
- the resolution clock then raises level 4, the oversight flag (Ombudsman), ``oversight_days`` working days after it
  started, and never before level 3;
- the hub's own verification clock goes straight to the coordinators (level 3) when it breaches;
- the reporter-response clock does not escalate: when it runs out the case completes (answered) or is withdrawn
  (postponed); and the hidden `retention` timer archives a completed case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from routing_svc.models import SlaClock
from shared.calendar import WorkingCalendar
from shared.domain import ClockKind, ClockState

WARN_FRACTION = 0.8


class TimerKind(StrEnum):
    """Clock kinds that are not SLA clocks."""

    retention = "retention"


LADDERS: dict[str, tuple[int, ...]] = {
    ClockKind.verification: (3,),
    ClockKind.first_response: (1, 2, 3),
    ClockKind.resolution: (1, 2, 3, 4),
    ClockKind.reporter_response: (),
    TimerKind.retention: (),
}
"""The escalation levels each kind of clock climbs, in order."""

ACTING_KINDS = frozenset({ClockKind.reporter_response.value, TimerKind.retention.value})
"""Kinds whose running out moves the case (auto-complete, withdraw, archive) instead of escalating it."""


@dataclass(frozen=True)
class ScheduleRules:
    calendar: WorkingCalendar
    escalation_interval_days: int
    oversight_days: int
    archive_after: timedelta


def plan(clock: SlaClock, rules: ScheduleRules) -> None:
    """Set `due_at`, `warn_at` and `oversight_at` from the start, the budget and the time spent paused."""
    cal, tz = rules.calendar, clock.timezone
    started = clock.started_at
    if clock.kind == TimerKind.retention:
        clock.due_at = started + rules.archive_after
        clock.warn_at = None
        clock.oversight_at = None
        return
    base_due = cal.add_working_days(started, clock.working_days, tz)
    total = cal.working_time_between(started, base_due, tz)
    paused = clock.paused_days
    clock.due_at = base_due if paused == 0 else cal.advance(started, total + paused, tz)
    clock.warn_at = cal.advance(started, WARN_FRACTION * total + paused, tz)
    if clock.kind == ClockKind.resolution:
        base_oversight = cal.add_working_days(started, rules.oversight_days, tz)
        clock.oversight_at = (
            base_oversight
            if paused == 0
            else cal.advance(started, cal.working_time_between(started, base_oversight, tz) + paused, tz)
        )
    else:
        clock.oversight_at = None


def rung_at(clock: SlaClock, index: int, rules: ScheduleRules) -> datetime:
    """When rung `index` (0-based) of the clock's ladder fires."""
    ladder = LADDERS[clock.kind]
    due = clock.due_at
    if index == 0:
        return due
    level = ladder[index]
    if level == 4:
        previous = rung_at(clock, index - 1, rules)
        return max(clock.oversight_at or previous, previous)
    return rules.calendar.add_working_days(due, index * rules.escalation_interval_days, clock.timezone)


def next_rung(clock: SlaClock) -> tuple[int, int] | None:
    """(index, level) of the first rung not reached yet, or None when the ladder is climbed."""
    for index, level in enumerate(LADDERS[clock.kind]):
        if level > clock.escalation_level:
            return index, level
    return None


def is_open(clock: SlaClock) -> bool:
    return clock.stopped_at is None


def next_fire(clock: SlaClock, rules: ScheduleRules) -> datetime | None:
    """When the sweep must look at the clock next; None when nothing more can happen by itself."""
    if clock.stopped_at is not None or clock.paused_at is not None:
        return None
    candidates: list[datetime] = []
    if clock.warned_at is None and clock.warn_at is not None and clock.kind != TimerKind.retention:
        candidates.append(clock.warn_at)
    if clock.kind in ACTING_KINDS:
        candidates.append(clock.due_at)
    else:
        if clock.breached_at is None:
            candidates.append(clock.due_at)
        rung = next_rung(clock)
        if rung is not None:
            candidates.append(rung_at(clock, rung[0], rules))
    return min(candidates) if candidates else None


def stopped_state(clock: SlaClock, at: datetime) -> ClockState:
    """The state of a clock stopped at `at`: breached if it was already, or late; met otherwise."""
    if clock.breached_at is not None or at > clock.due_at:
        return ClockState.breached
    return ClockState.met
