"""Periods in the hub's timezone: a date range as instants, and calendar buckets (day, ISO week, month, quarter,
year). Pure date arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2999, 12, 31)
MAX_BUCKETS = 366
DEFAULT_BUCKETS = 12


class Granularity(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


_MONTHS = {Granularity.month: 1, Granularity.quarter: 3, Granularity.year: 12}


@dataclass(frozen=True)
class Window:
    """Instants (UTC) from `start` (included) to `end` (excluded); None is open-ended."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Bucket:
    label: str
    first_day: date
    last_day: date
    window: Window


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight at the start of `day`, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def window(first_day: date | None, last_day: date | None, tz: ZoneInfo) -> Window:
    """The instants of the local days `first_day` to `last_day`, both included."""
    return Window(
        midnight(first_day, tz) if first_day else None,
        midnight(last_day + timedelta(days=1), tz) if last_day else None,
    )


def bucket_start(day: date, granularity: Granularity) -> date:
    if granularity is Granularity.day:
        return day
    if granularity is Granularity.week:
        return day - timedelta(days=day.weekday())
    months = _MONTHS[granularity]
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def shift(start: date, granularity: Granularity, n: int) -> date:
    """The start of the bucket `n` buckets after (or before, n < 0) the one starting at `start`."""
    if granularity is Granularity.day:
        return start + timedelta(days=n)
    if granularity is Granularity.week:
        return start + timedelta(weeks=n)
    index = start.year * 12 + start.month - 1 + n * _MONTHS[granularity]
    return date(index // 12, index % 12 + 1, 1)


def label(start: date, granularity: Granularity) -> str:
    if granularity is Granularity.day:
        return start.isoformat()
    if granularity is Granularity.week:
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if granularity is Granularity.month:
        return f"{start.year}-{start.month:02d}"
    if granularity is Granularity.quarter:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def default_range(today: date, granularity: Granularity) -> tuple[date, date]:
    """The last DEFAULT_BUCKETS buckets, the one holding `today` included."""
    return shift(bucket_start(today, granularity), granularity, 1 - DEFAULT_BUCKETS), today


def buckets(first_day: date, last_day: date, granularity: Granularity, tz: ZoneInfo) -> list[Bucket] | None:
    """The whole buckets that hold `first_day` to `last_day`; None when there would be more than MAX_BUCKETS."""
    found: list[Bucket] = []
    start = bucket_start(first_day, granularity)
    while start <= last_day:
        if len(found) == MAX_BUCKETS:
            return None
        after = shift(start, granularity, 1)
        found.append(
            Bucket(
                label(start, granularity),
                start,
                after - timedelta(days=1),
                Window(midnight(start, tz), midnight(after, tz)),
            )
        )
        start = after
    return found
