"""Time as the services see it. Production uses the system clock; tests may inject another."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


LATEST_TODAY_ZONE = timezone(timedelta(hours=9))
"""The easternmost Indonesian time zone (WIT, UTC+9, no daylight saving): no reporter's "today" is later than its."""


def latest_today(now: datetime | None = None) -> date:
    """Today's date where it is latest in Indonesia: a day after it is in the future for every reporter."""
    return (now or utcnow()).astimezone(LATEST_TODAY_ZONE).date()


def utc(value: datetime) -> datetime:
    """`value` in UTC; a naive one is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_clock(spec: str | None) -> Clock:
    """The system clock, or, when `spec` ("package.module:factory") is set, the clock that factory returns.

    Only test configuration sets `spec` (SIMPUL_CLOCK): it lets a test move time in a running process. The movable
    clocks live in the test suite, so nothing in the services themselves can move time.
    """
    if not spec:
        return SystemClock()
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"SIMPUL_CLOCK must be 'package.module:factory', got {spec!r}")
    factory = getattr(importlib.import_module(module_name), attr)
    clock = factory()
    if not callable(getattr(clock, "now", None)):
        raise TypeError(f"{spec} did not return a clock (an object with now())")
    return clock  # type: ignore[no-any-return]
