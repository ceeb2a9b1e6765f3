"""The working-day calendar behind the SLA clocks (hari kerja, in the node's timezone).

Working days
    Monday to Friday, minus Indonesia's national holidays and *cuti bersama*, as the ``holidays`` package gives
    them (``country_holidays("ID", categories=("public", "government"))``: "public" holds the national holidays,
    "government" holds the cuti bersama of the SKB 3 Menteri), minus the configured ``extra_holidays``, plus the
    configured ``extra_working_days`` (e.g. a Saturday declared a working day, or a cuti bersama that was revoked).
    A date may not be in both configured lists.

Timezones
    Each node lives in WIB (Asia/Jakarta, UTC+7), WITA (Asia/Makassar, UTC+8) or WIT (Asia/Jayapura, UTC+9).
    Every function takes timezone-aware datetimes (naive ones are refused) and returns datetimes in UTC.

The definition of "due in N working days"
    From an instant ``t`` in timezone ``Z``, "due in N working days" (N >= 1) is the END of the Nth working day
    strictly after ``t``'s local date in ``Z``. The end of a day is its last instant: local 23:59:59.999999,
    returned converted to UTC. Day 1 is the first working day after the local date of ``t``, whatever the hour of
    ``t``: a complaint received on a Friday evening and one received on a Saturday both start counting on Monday
    (if Monday is a working day). N = 0 returns ``t`` itself (the same instant, expressed in UTC).

    Example: received Friday 6 March 2026 20:00 WIB, due in 3 working days -> Mon 9, Tue 10, Wed 11 March, so
    Wednesday 11 March 2026 23:59:59.999999 WIB = 2026-03-11T16:59:59.999999Z. Received Tuesday 17 March 2026
    10:00 WIB (just before Lebaran), due in 3 working days: 18 March (cuti bersama Nyepi), 19 (Nyepi), 20 (cuti
    bersama Idul Fitri), 21-22 (Idul Fitri, a weekend), 23-24 (cuti bersama) are skipped -> Wed 25, Thu 26,
    Fri 27 March, so 2026-03-27T16:59:59.999999Z.

Fractional working time (``add_working_time``)
    For ``days = k + f`` (whole part ``k``, fraction ``0 < f < 1``): count ``k`` working days as above (for
    ``k = 0`` stay on ``t``'s local date), then take the next working day after that one, and return its local
    midnight plus ``f * 24h``. Example: 2.4 days from Monday 10:00 -> Tuesday, Wednesday, then 0.4 of Thursday =
    Thursday 09:36 local (when Tuesday to Thursday are working days). A whole ``days`` is ``add_working_days``.

Measured working time (``working_time_between``)
    The working days (fractional) between two instants: each working day contributes the overlap of ``[a, b)``
    with its local 24 hours, divided by 24h; 0 when ``b <= a``. It is what a paused clock owes: from a deadline
    ``d`` (the end of a working day), ``add_working_time(d, working_time_between(p, q))`` moves it by exactly the
    working time of the pause ``[p, q)``. In general, for ``x > 0``,
    ``working_time_between(t, add_working_time(t, x)) == x + r``, where ``r`` is what is left of ``t``'s local
    day if that day is a working day (else 0): ``t``'s own day counts as time but not as "day 1".

The holidays of a year are built once, lazily, and shared by every calendar (guarded by a lock). Years that the
``holidays`` package has no cuti bersama for yet (e.g. 2028 in holidays 0.109) have only the national holidays
(some "estimated"); add the decree's dates through ``extra_holidays`` when it appears.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

__all__ = ["ZONES", "ZONE_PATTERN", "WorkingCalendar", "zone"]

ZONES: Mapping[str, str] = MappingProxyType(
    {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"},
)

HOLIDAY_CATEGORIES = ("public", "government")
EXTRA_HOLIDAY_NAME = "Hari libur tambahan"

_END_OF_DAY = time(23, 59, 59, 999_999)
_ONE_DAY = timedelta(days=1)


_SPACE = r"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""What str.strip() strips (str.isspace()), spelled out: JSON Schema's \\s is not Python's."""
ZONE_PATTERN = (
    rf"^{_SPACE}*(?:[Ww][Ii\u0131][Bb]|[Ww][Ii\u0131][Tt][Aa]?|Asia/Jakarta|Asia/Makassar|Asia/Jayapura){_SPACE}*$"
)
"""What zone(name.strip()) takes, as a JSON Schema pattern: an abbreviation in any case (str.upper() also makes
the dotless i, U+0131, an 'I'), an IANA name as written, surrounding whitespace."""


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of a node timezone, given as "WIB"/"WITA"/"WIT" or as its IANA name."""
    key = ZONES.get(name.upper(), name) if isinstance(name, str) else ""
    if key not in ZONES.values():
        allowed = ", ".join(f"{abbr} ({iana})" for abbr, iana in ZONES.items())
        raise ValueError(f"unknown timezone {name!r}: expected one of {allowed}")
    return ZoneInfo(key)


_cache_lock = threading.Lock()
_year_cache: dict[tuple[int, str], Mapping[date, str]] = {}


def _library_holidays(year: int, language: str) -> Mapping[date, str]:
    """National holidays and cuti bersama of one year, from the holidays package (built once per year)."""
    found = _year_cache.get((year, language))
    if found is not None:
        return found
    with _cache_lock:
        found = _year_cache.get((year, language))
        if found is None:
            source = holidays.country_holidays("ID", years=year, categories=HOLIDAY_CATEGORIES, language=language)
            days: dict[date, str] = {}
            for day, name in source.items():
                if isinstance(day, date) and day.year == year:
                    days[day] = str(name)
            found = MappingProxyType(days)
            _year_cache[(year, language)] = found
        return found


def _aware_utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _end_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=tz).astimezone(UTC)


class WorkingCalendar:
    """Indonesian working days (Mon-Fri minus holidays and cuti bersama) with configured exceptions."""

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        *,
        language: str = "id",
    ) -> None:
        self._extra_holidays = frozenset(_plain_date(d, "extra_holidays") for d in extra_holidays)
        self._extra_working_days = frozenset(_plain_date(d, "extra_working_days") for d in extra_working_days)
        both = self._extra_holidays & self._extra_working_days
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates both in extra_holidays and extra_working_days: {listed}")
        self._language = language

    def preload(self, *years: int) -> None:
        """Build these years' holidays now (the holidays package's first use imports every country's module: about
        a second that would otherwise fall on the first case)."""
        for year in years:
            _library_holidays(year, self._language)

    # -- days ----------------------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True for Mon-Fri that are not a holiday or cuti bersama, and for configured extra working days."""
        if d in self._extra_working_days:
            return True
        if d in self._extra_holidays or d.weekday() >= 5:
            return False
        return d not in _library_holidays(d.year, self._language)

    def holiday_name(self, d: date) -> str | None:
        """The holiday or cuti bersama on ``d`` (or the configured extra holiday), None if none or overridden."""
        if d in self._extra_working_days:
            return None
        if d in self._extra_holidays:
            return EXTRA_HOLIDAY_NAME
        return _library_holidays(d.year, self._language).get(d)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self._nth_working_day_after(d, 1)

    def working_days_in(self, start: date, end: date) -> int:
        """How many working days lie in ``[start, end]`` (both included); 0 when ``end < start``."""
        count = 0
        day = start
        while day <= end:
            if self.is_working_day(day):
                count += 1
            if day == date.max:
                break
            day += _ONE_DAY
        return count

    def _nth_working_day_after(self, d: date, n: int) -> date:
        day = d
        remaining = n
        try:
            while remaining > 0:
                day += _ONE_DAY
                if self.is_working_day(day):
                    remaining -= 1
        except OverflowError:
            raise ValueError(f"{n} working days after {d.isoformat()} is beyond the supported dates") from None
        return day

    # -- instants ------------------------------------------------------------------------------------------------

    def add_working_days(self, start: datetime, n: int, tz: str) -> datetime:
        """The end (UTC) of the nth working day strictly after ``start``'s local date in ``tz``; n=0: ``start``."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        local_zone = zone(tz)
        at = _aware_utc(start, "start")
        if n == 0:
            return at
        local_date = at.astimezone(local_zone).date()
        return _end_of(self._nth_working_day_after(local_date, n), local_zone)

    def add_working_time(self, start: datetime, days: float, tz: str) -> datetime:
        """``start`` plus ``days`` working days (UTC): whole days as add_working_days, then f*24h of the next one."""
        if isinstance(days, bool) or not isinstance(days, int | float):
            raise TypeError(f"days must be a number, got {type(days).__name__}")
        if not math.isfinite(days) or days < 0:
            raise ValueError(f"days must be a finite number >= 0, got {days}")
        whole = math.floor(days)
        fraction = days - whole
        if fraction == 0:
            return self.add_working_days(start, whole, tz)
        local_zone = zone(tz)
        at = _aware_utc(start, "start")
        counted = self._nth_working_day_after(at.astimezone(local_zone).date(), whole)
        target = self.next_working_day(counted)
        moment = _start_of(target, local_zone) + timedelta(days=fraction)
        return min(moment, _end_of(target, local_zone))

    def advance(self, start: datetime, days: float, tz: str) -> datetime:
        """The instant (UTC) at which ``days`` of working time have passed since ``start``.

        Unlike ``add_working_time``, the rest of ``start``'s own day counts when it is a working day, so
        ``working_time_between(start, advance(start, x)) == x`` (to the microsecond). It places points inside a
        running clock: its 80% warning, or its deadline moved on by the working time it spent paused.
        """
        if isinstance(days, bool) or not isinstance(days, int | float):
            raise TypeError(f"days must be a number, got {type(days).__name__}")
        if not math.isfinite(days) or days < 0:
            raise ValueError(f"days must be a finite number >= 0, got {days}")
        local_zone = zone(tz)
        at = _aware_utc(start, "start")
        if days == 0:
            return at
        local_day = at.astimezone(local_zone).date()
        if self.is_working_day(local_day):
            rest = (_start_of(local_day + _ONE_DAY, local_zone) - at) / _ONE_DAY
            if days <= rest:
                # at most the day's last instant: its end, never the next (possibly non-working) local date
                return min(at + timedelta(days=days), _end_of(local_day, local_zone))
            days -= rest
        return self.add_working_time(at, days, tz)

    def working_time_between(self, a: datetime, b: datetime, tz: str) -> float:
        """Working days (fractional) inside ``[a, b)``: each working day adds its overlap with its local 24h / 24h."""
        local_zone = zone(tz)
        lo = _aware_utc(a, "a")
        hi = _aware_utc(b, "b")
        if hi <= lo:
            return 0.0
        total = timedelta(0)
        day = lo.astimezone(local_zone).date()
        last = hi.astimezone(local_zone).date()
        while day <= last:
            if self.is_working_day(day):
                day_start = _start_of(day, local_zone)
                day_end = _start_of(day + _ONE_DAY, local_zone) if day < date.max else _end_of(day, local_zone)
                overlap = min(hi, day_end) - max(lo, day_start)
                if overlap > timedelta(0):
                    total += overlap
            if day == date.max:
                break
            day += _ONE_DAY
        return total / _ONE_DAY


def _plain_date(value: object, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{what} must hold dates, got {value!r}")
    return value
