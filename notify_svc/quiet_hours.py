"""Quiet hours: a daily span of local time (e.g. 21:00-07:00) in which nobody is sent a message.

A message to a person that falls inside the span waits until the span ends, in the recipient's own timezone; it is
deferred, never dropped. The span may cross midnight; its start is inside it, its end is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from shared.calendar import zone

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _clock(hours: str, minutes: str) -> time:
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise ValueError(f"not a time of day: {hours}:{minutes}")
    return time(h, m)


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, spec: str | None) -> QuietHours | None:
        """'21:00-07:00' -> the span; '' or None -> no quiet hours; anything else is a ValueError that says why."""
        if spec is None or not spec.strip():
            return None
        match = _SPAN.match(spec)
        if match is None:
            raise ValueError(f"quiet hours must look like 21:00-07:00, got {spec!r}")
        start, end = _clock(*match.group(1, 2)), _clock(*match.group(3, 4))
        if start == end:
            raise ValueError(f"quiet hours start and end at the same time: {spec!r}")
        return cls(start, end)

    def until(self, now: datetime, timezone: str) -> datetime | None:
        """The end (UTC) of the quiet span that `now` falls in, in `timezone`; None when `now` is not quiet."""
        tz = zone(timezone)
        local = now.astimezone(tz)
        at, day = local.time().replace(tzinfo=None), local.date()
        if self.start < self.end:
            end_day = day if self.start <= at < self.end else None
        elif at >= self.start:
            end_day = day + timedelta(days=1)
        elif at < self.end:
            end_day = day
        else:
            end_day = None
        if end_day is None:
            return None
        return datetime.combine(end_day, self.end, tzinfo=tz).astimezone(UTC)
