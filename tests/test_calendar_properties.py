"""Properties of the working-day calendar (hypothesis), on instants from 2025 to 2028 in the three node timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

import holidays
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.calendar import ZONES, WorkingCalendar, zone

CAL = WorkingCalendar()
END = time(23, 59, 59, 999_999)
ONE_DAY = timedelta(days=1)
# A microsecond, in days: the resolution of datetimes, and the gap between a day's last instant and its end.
MICROSECOND = timedelta(microseconds=1) / ONE_DAY
# Tolerance for float sums of up to a few hundred days measured in microseconds.
FLOAT_SLACK = 1e-12

TZ_NAMES = st.sampled_from([*ZONES, *ZONES.values()])
# Inputs may come in any offset; the calendar converts them. The results are always in UTC.
INPUT_ZONES = st.sampled_from([UTC, zone("WIB"), zone("WITA"), zone("WIT")])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31, 23, 59, 59), timezones=INPUT_ZONES
)
DATES = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))
WHOLE = st.integers(min_value=0, max_value=60)
AMOUNTS = st.floats(min_value=0, max_value=60, allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(min_value=1e-9, max_value=60, allow_nan=False, allow_infinity=False)
PROPS = settings(max_examples=100, deadline=None)

LIBRARY = holidays.country_holidays("ID", years=range(2025, 2030), categories=("public", "government"))


def local_date(t: datetime, tz: str) -> date:
    return t.astimezone(zone(tz)).date()


def rest_of_working_day(t: datetime, tz: str) -> float:
    """What is left of t's local day, in days, if that day is a working day (else 0); computed independently."""
    z = zone(tz)
    local_t = t.astimezone(z)
    if not CAL.is_working_day(local_t.date()):
        return 0.0
    next_midnight = datetime.combine(local_t.date() + ONE_DAY, time(0), tzinfo=z)
    return (next_midnight - local_t) / ONE_DAY


# -- the days ------------------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(day=DATES)
def test_a_working_day_is_a_weekday_that_the_library_does_not_list(day: date) -> None:
    assert CAL.is_working_day(day) == (day.weekday() < 5 and day not in LIBRARY)
    assert CAL.is_working_day(day) == (CAL.holiday_name(day) is None and day.weekday() < 5)


@PROPS
@given(
    day=DATES,
    extra_holidays=st.sets(DATES, max_size=20),
    extra_working_days=st.sets(DATES, max_size=20),
)
def test_configured_dates_override_the_library(
    day: date, extra_holidays: set[date], extra_working_days: set[date]
) -> None:
    extra_working_days -= extra_holidays
    cal = WorkingCalendar(extra_holidays=extra_holidays, extra_working_days=extra_working_days)
    if day in extra_working_days:
        assert cal.is_working_day(day)
    elif day in extra_holidays:
        assert not cal.is_working_day(day)
    else:
        assert cal.is_working_day(day) == CAL.is_working_day(day)


# -- add_working_days ----------------------------------------------------------------------------------------------


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=1, max_value=60), tz=TZ_NAMES)
def test_a_deadline_is_the_last_instant_of_a_working_day(t: datetime, n: int, tz: str) -> None:
    due = CAL.add_working_days(t, n, tz)
    assert due.tzinfo is UTC
    local_due = due.astimezone(zone(tz))
    assert local_due.time() == END
    assert CAL.is_working_day(local_due.date())
    assert local_due.date() > local_date(t, tz)
    # exactly n working days lie after t's local date, up to and including the deadline's date
    assert CAL.working_days_in(local_date(t, tz) + ONE_DAY, local_due.date()) == n


@PROPS
@given(
    t=INSTANTS,
    n=st.integers(min_value=1, max_value=30),
    extra_holidays=st.sets(DATES, max_size=30),
    extra_working_days=st.sets(DATES, max_size=30),
    tz=TZ_NAMES,
)
def test_a_deadline_is_a_working_day_of_a_configured_calendar(
    t: datetime, n: int, extra_holidays: set[date], extra_working_days: set[date], tz: str
) -> None:
    cal = WorkingCalendar(extra_holidays=extra_holidays, extra_working_days=extra_working_days - extra_holidays)
    local_due = cal.add_working_days(t, n, tz).astimezone(zone(tz))
    assert local_due.time() == END
    assert cal.is_working_day(local_due.date())
    assert cal.working_days_in(local_date(t, tz) + ONE_DAY, local_due.date()) == n


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=0, max_value=59), tz=TZ_NAMES)
def test_a_deadline_moves_forward_strictly_with_n(t: datetime, n: int, tz: str) -> None:
    assert CAL.add_working_days(t, n, tz) < CAL.add_working_days(t, n + 1, tz)
    # and by whole days: the next deadline is the end of the next working day
    later = CAL.add_working_days(t, n + 1, tz).astimezone(zone(tz)).date()
    if n > 0:
        assert later == CAL.next_working_day(CAL.add_working_days(t, n, tz).astimezone(zone(tz)).date())


@PROPS
@given(t=INSTANTS, tz=TZ_NAMES)
def test_zero_working_days_is_the_same_instant_in_utc(t: datetime, tz: str) -> None:
    same = CAL.add_working_days(t, 0, tz)
    assert same == t
    assert same.tzinfo is UTC


@PROPS
@given(t=INSTANTS, n=WHOLE, m=WHOLE, tz=TZ_NAMES)
def test_adding_n_then_m_working_days_is_adding_n_plus_m(t: datetime, n: int, m: int, tz: str) -> None:
    assert CAL.add_working_days(CAL.add_working_days(t, n, tz), m, tz) == CAL.add_working_days(t, n + m, tz)


@PROPS
@given(t=INSTANTS, n=WHOLE, other=INPUT_ZONES, tz=TZ_NAMES)
def test_the_offset_of_the_input_does_not_matter(t: datetime, n: int, other: tzinfo, tz: str) -> None:
    moved = t.astimezone(other)
    assert moved == t
    assert CAL.add_working_days(moved, n, tz) == CAL.add_working_days(t, n, tz)
    assert CAL.add_working_time(moved, n + 0.5, tz) == CAL.add_working_time(t, n + 0.5, tz)
    assert CAL.advance(moved, n + 0.5, tz) == CAL.advance(t, n + 0.5, tz)


# -- add_working_time ----------------------------------------------------------------------------------------------


@PROPS
@given(t=INSTANTS, n=WHOLE, tz=TZ_NAMES)
def test_whole_working_time_is_working_days(t: datetime, n: int, tz: str) -> None:
    assert CAL.add_working_time(t, float(n), tz) == CAL.add_working_days(t, n, tz)
    assert CAL.add_working_time(t, n, tz) == CAL.add_working_days(t, n, tz)


@PROPS
@given(t=INSTANTS, days=POSITIVE, tz=TZ_NAMES)
def test_working_time_lands_inside_a_later_working_day(t: datetime, days: float, tz: str) -> None:
    result = CAL.add_working_time(t, days, tz)
    assert result.tzinfo is UTC
    assert CAL.is_working_day(local_date(result, tz))
    assert local_date(result, tz) > local_date(t, tz)


@PROPS
@given(t=INSTANTS, x=AMOUNTS, y=AMOUNTS, tz=TZ_NAMES)
def test_working_time_is_monotonic(t: datetime, x: float, y: float, tz: str) -> None:
    x, y = sorted([x, y])
    assert CAL.add_working_time(t, x, tz) <= CAL.add_working_time(t, y, tz)


@PROPS
@given(t=INSTANTS, x=POSITIVE, tz=TZ_NAMES)
def test_measured_working_time_is_x_plus_the_rest_of_the_start_day(t: datetime, x: float, tz: str) -> None:
    measured = CAL.working_time_between(t, CAL.add_working_time(t, x, tz), tz)
    assert measured == pytest.approx(x + rest_of_working_day(t, tz), abs=MICROSECOND + FLOAT_SLACK)


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=1, max_value=60), x=AMOUNTS, tz=TZ_NAMES)
def test_extending_a_deadline_adds_exactly_the_working_time(t: datetime, n: int, x: float, tz: str) -> None:
    deadline = CAL.add_working_days(t, n, tz)
    extended = CAL.add_working_time(deadline, x, tz)
    assert extended >= deadline
    # x, plus the last microsecond of the deadline's own day when x > 0
    moved = CAL.working_time_between(deadline, extended, tz)
    assert moved == pytest.approx(x + (MICROSECOND if x > 0 else 0), abs=MICROSECOND + FLOAT_SLACK)


# -- advance -------------------------------------------------------------------------------------------------------


@PROPS
@given(t=INSTANTS, x=AMOUNTS, tz=TZ_NAMES)
def test_advance_measures_exactly_x(t: datetime, x: float, tz: str) -> None:
    result = CAL.advance(t, x, tz)
    assert result.tzinfo is UTC
    assert result >= t
    assert CAL.working_time_between(t, result, tz) == pytest.approx(x, abs=MICROSECOND + FLOAT_SLACK)


@PROPS
@given(t=INSTANTS, x=POSITIVE, tz=TZ_NAMES)
# exactly the rest of a working day before a weekend, a cuti bersama, a public holiday
@example(t=datetime(2026, 3, 6, 12, tzinfo=zone("WIB")), x=0.5, tz="WIB")
@example(t=datetime(2026, 3, 17, 18, tzinfo=zone("WITA")), x=0.25, tz="WITA")
@example(t=datetime(2026, 12, 31, tzinfo=zone("WIT")), x=1.0, tz="WIT")
def test_advance_lands_inside_a_working_day(t: datetime, x: float, tz: str) -> None:
    assert CAL.is_working_day(local_date(CAL.advance(t, x, tz), tz))


@PROPS
@given(t=INSTANTS, x=AMOUNTS, y=AMOUNTS, tz=TZ_NAMES)
def test_advance_is_monotonic(t: datetime, x: float, y: float, tz: str) -> None:
    x, y = sorted([x, y])
    assert CAL.advance(t, x, tz) <= CAL.advance(t, y, tz)


@PROPS
@given(t=INSTANTS, u=INSTANTS, tz=TZ_NAMES)
def test_advance_inverts_working_time_between(t: datetime, u: datetime, tz: str) -> None:
    t, u = sorted([t, u])
    between = CAL.working_time_between(t, u, tz)
    back = CAL.advance(t, between, tz)
    # advance finds the earliest instant with that much working time: no later than u, no working time left between
    assert back <= u + timedelta(microseconds=1)
    assert CAL.working_time_between(back, u, tz) <= MICROSECOND + FLOAT_SLACK
    if between > 0:
        assert CAL.is_working_day(local_date(back, tz))
    local_u = u.astimezone(zone(tz))
    if CAL.is_working_day(local_u.date()) and local_u.time() != time(0):
        # an instant inside working time is found again (to the microsecond: a day's end is its last instant)
        assert abs(back - u) <= timedelta(microseconds=1)


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=1, max_value=60), tz=TZ_NAMES)
def test_advance_by_a_deadlines_working_time_is_that_deadline(t: datetime, n: int, tz: str) -> None:
    # what an SLA clock relies on: a clock paused for no time keeps its original deadline
    due = CAL.add_working_days(t, n, tz)
    assert CAL.advance(t, CAL.working_time_between(t, due, tz), tz) == due


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=1, max_value=60), x=AMOUNTS, tz=TZ_NAMES)
def test_from_a_deadline_advance_agrees_with_add_working_time(t: datetime, n: int, x: float, tz: str) -> None:
    deadline = CAL.add_working_days(t, n, tz)
    # The deadline's own day has one microsecond left: advance spends it first, add_working_time skips it.
    # So advance is never later, and no more than that microsecond (and a rounding one) of working time earlier.
    advanced = CAL.advance(deadline, x, tz)
    added = CAL.add_working_time(deadline, x, tz)
    assert advanced <= added
    assert CAL.working_time_between(advanced, added, tz) <= 2 * MICROSECOND + FLOAT_SLACK


# -- working_time_between ------------------------------------------------------------------------------------------


@PROPS
@given(a=INSTANTS, b=INSTANTS, c=INSTANTS, tz=TZ_NAMES)
def test_working_time_between_is_additive(a: datetime, b: datetime, c: datetime, tz: str) -> None:
    a, b, c = sorted([a, b, c])
    ab = CAL.working_time_between(a, b, tz)
    bc = CAL.working_time_between(b, c, tz)
    assert CAL.working_time_between(a, c, tz) == pytest.approx(ab + bc, abs=FLOAT_SLACK)


@PROPS
@given(a=INSTANTS, b=INSTANTS, tz=TZ_NAMES)
def test_working_time_between_is_bounded_by_days_and_elapsed_time(a: datetime, b: datetime, tz: str) -> None:
    a, b = sorted([a, b])
    between = CAL.working_time_between(a, b, tz)
    assert 0 <= between <= (b - a) / ONE_DAY + FLOAT_SLACK
    assert CAL.working_time_between(b, a, tz) == 0.0
    # at most the number of working days that the interval touches
    assert between <= CAL.working_days_in(local_date(a, tz), local_date(b, tz))
