"""The working-day calendar: real 2026/2027 dates, timezones, configuration, and properties of the definition."""

from __future__ import annotations

import time as timer
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.calendar import ZONES, WorkingCalendar, zone

CAL = WorkingCalendar()
WIB = zone("WIB")
WITA = zone("WITA")
WIT = zone("WIT")
END = time(23, 59, 59, 999_999)


def d(text: str) -> date:
    return date.fromisoformat(text)


def end_of(day: str, tz: str = "WIB") -> datetime:
    """The last instant of a local day, in UTC (what a deadline looks like)."""
    return datetime.combine(d(day), END, tzinfo=zone(tz)).astimezone(UTC)


def local(text: str, tz: str = "WIB") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone(tz))


# -- what the holidays package gives ----------------------------------------------------------------------------

CUTI_BERSAMA_2026 = [
    "2026-02-16",  # Tahun Baru Imlek
    "2026-03-18",  # Hari Suci Nyepi
    "2026-03-20",  # Idul Fitri
    "2026-03-23",  # Idul Fitri
    "2026-03-24",  # Idul Fitri
    "2026-05-15",  # Kenaikan Yesus Kristus
    "2026-05-28",  # Idul Adha
    "2026-12-24",  # Natal
]
CUTI_BERSAMA_2027 = [
    "2027-02-05",  # Tahun Baru Imlek
    "2027-03-09",  # Idul Fitri
    "2027-03-12",  # Idul Fitri
    "2027-03-15",  # Idul Fitri
    "2027-03-25",  # Wafat Yesus Kristus
    "2027-05-18",  # Idul Adha
    "2027-05-19",  # Waisak
    "2027-12-24",  # Natal
]


@pytest.mark.parametrize(("year", "expected"), [(2026, CUTI_BERSAMA_2026), (2027, CUTI_BERSAMA_2027)])
def test_government_category_is_cuti_bersama(year: int, expected: list[str]) -> None:
    government = holidays.country_holidays("ID", years=year, categories=("government",), language="id")
    assert sorted(day.isoformat() for day in government) == expected
    for day in expected:
        name = CAL.holiday_name(d(day))
        assert name is not None
        assert name.startswith("Cuti Bersama")
        assert not CAL.is_working_day(d(day))


def test_lebaran_2026_dates() -> None:
    assert CAL.holiday_name(d("2026-03-19")) == "Hari Suci Nyepi"
    assert CAL.holiday_name(d("2026-03-20")) == "Cuti Bersama Hari Raya Idul Fitri"
    assert CAL.holiday_name(d("2026-03-21")) == "Hari Raya Idul Fitri"
    assert CAL.holiday_name(d("2026-03-22")) == "Hari kedua dari Hari Raya Idul Fitri"
    assert [CAL.is_working_day(d(f"2026-03-{day}")) for day in range(16, 27)] == [
        True,  # Mon 16
        True,  # Tue 17
        False,  # Wed 18 cuti bersama Nyepi
        False,  # Thu 19 Nyepi
        False,  # Fri 20 cuti bersama Idul Fitri
        False,  # Sat 21 Idul Fitri
        False,  # Sun 22 Idul Fitri, second day
        False,  # Mon 23 cuti bersama
        False,  # Tue 24 cuti bersama
        True,  # Wed 25
        True,  # Thu 26
    ]
    assert CAL.holiday_name(d("2026-03-17")) is None
    assert CAL.holiday_name(d("2026-03-28")) is None  # a plain Saturday is not a holiday


def test_deadline_from_before_lebaran_skips_every_holiday_and_cuti_bersama() -> None:
    received = local("2026-03-17T10:00")  # Tuesday before Nyepi and Lebaran
    assert CAL.add_working_days(received, 1, "WIB") == end_of("2026-03-25")
    assert CAL.add_working_days(received, 3, "WIB") == end_of("2026-03-27")
    assert CAL.add_working_days(received, 5, "WIB") == end_of("2026-03-31")
    # 14 working days: also skips Good Friday, 3 April 2026.
    assert CAL.add_working_days(received, 14, "WIB") == end_of("2026-04-14")

    # Independently of the calendar: the days counted are exactly the weekdays that the library does not list.
    listed = holidays.country_holidays("ID", years=2026, categories=("public", "government"))
    counted: list[date] = []
    day = d("2026-03-17")
    while len(counted) < 14:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in listed:
            counted.append(day)
    assert counted[-1] == d("2026-04-14")
    skipped = [
        day
        for day in (d("2026-03-18") + timedelta(days=i) for i in range(28))
        if day <= counted[-1] and day not in counted
    ]
    assert [x.isoformat() for x in skipped if x.weekday() < 5] == [
        "2026-03-18",
        "2026-03-19",
        "2026-03-20",
        "2026-03-23",
        "2026-03-24",
        "2026-04-03",
    ]
    assert CAL.working_days_in(d("2026-03-18"), d("2026-04-14")) == 14


def test_christmas_and_new_year() -> None:
    assert CAL.holiday_name(d("2026-12-24")) == "Cuti Bersama Hari Raya Natal"
    assert CAL.holiday_name(d("2026-12-25")) == "Hari Raya Natal"
    assert CAL.holiday_name(d("2027-01-01")) == "Tahun Baru Masehi"
    # The 2026 decree gives no cuti bersama on 31 December (a Thursday): it is a working day.
    assert CAL.holiday_name(d("2026-12-31")) is None
    assert CAL.is_working_day(d("2026-12-31"))

    received = local("2026-12-23T15:00")  # Wednesday
    # 24 (cuti bersama), 25 (Natal), 26-27 (weekend) skipped; then 28, 29, 30.
    assert CAL.add_working_days(received, 3, "WIB") == end_of("2026-12-30")
    # then 31 December, 1 January (Tahun Baru) and the weekend skipped, Monday 4 January 2027.
    assert CAL.add_working_days(received, 5, "WIB") == end_of("2027-01-04")
    assert CAL.next_working_day(d("2026-12-31")) == d("2027-01-04")
    assert CAL.next_working_day(d("2026-12-23")) == d("2026-12-28")
    # 15 weekdays, minus 24 and 25 December, 1 January and Isra Mikraj (Tuesday 5 January 2027).
    assert CAL.holiday_name(d("2027-01-05")) == "Isra Mikraj Nabi Muhammad"
    assert CAL.working_days_in(d("2026-12-21"), d("2027-01-08")) == 15 - 4


def test_christmas_2027_and_lebaran_2027() -> None:
    assert CAL.holiday_name(d("2027-12-24")) == "Cuti Bersama Hari Raya Natal"
    # Christmas 2027 is a Saturday; Friday 24 is cuti bersama, Monday 27 is a working day.
    assert CAL.add_working_days(local("2027-12-23T09:00"), 1, "WIB") == end_of("2027-12-27")
    # Lebaran 2027: 9 (cuti), 10-11 (Idul Fitri, estimated), 12 and 15 (cuti) March.
    assert CAL.add_working_days(local("2027-03-08T09:00"), 1, "WIB") == end_of("2027-03-16")


@pytest.mark.parametrize(
    "received",
    [
        "2026-03-06T17:30",  # Friday evening
        "2026-03-06T23:59:59",  # Friday, the last second
        "2026-03-07T00:00",  # Saturday midnight
        "2026-03-07T09:00",  # Saturday
        "2026-03-08T22:00",  # Sunday night
    ],
)
def test_weekend_starts_count_from_monday(received: str) -> None:
    assert CAL.add_working_days(local(received), 1, "WIB") == end_of("2026-03-09")
    assert CAL.add_working_days(local(received), 3, "WIB") == end_of("2026-03-11")
    assert CAL.add_working_days(local(received), 5, "WIB") == end_of("2026-03-13")
    assert CAL.add_working_days(local(received), 6, "WIB") == end_of("2026-03-16")


def test_the_hour_of_a_working_day_does_not_matter() -> None:
    for hour in (0, 8, 17, 23):
        assert CAL.add_working_days(local(f"2026-03-09T{hour:02d}:00"), 1, "WIB") == end_of("2026-03-10")


def test_same_utc_instant_is_a_different_local_date_in_wib_and_wit() -> None:
    instant = datetime(2026, 3, 5, 16, 30, tzinfo=UTC)  # Thu 23:30 WIB, Fri 00:30 WITA, Fri 01:30 WIT
    assert instant.astimezone(WIB).date() == d("2026-03-05")
    assert instant.astimezone(WIT).date() == d("2026-03-06")
    wib = CAL.add_working_days(instant, 1, "WIB")
    wita = CAL.add_working_days(instant, 1, "Asia/Makassar")
    wit = CAL.add_working_days(instant, 1, "WIT")
    assert wib == datetime(2026, 3, 6, 16, 59, 59, 999_999, tzinfo=UTC)  # Friday, end of day WIB
    assert wita == datetime(2026, 3, 9, 15, 59, 59, 999_999, tzinfo=UTC)  # Monday, end of day WITA
    assert wit == datetime(2026, 3, 9, 14, 59, 59, 999_999, tzinfo=UTC)  # Monday, end of day WIT
    for result in (wib, wita, wit):
        assert result.tzinfo is UTC
    # The same local wall time in the three zones: same local deadline, one hour apart in UTC.
    assert CAL.add_working_days(local("2026-03-05T10:00", "WIT"), 1, "WIT") == end_of("2026-03-06", "WIT")
    assert end_of("2026-03-06", "WIB") - end_of("2026-03-06", "WIT") == timedelta(hours=2)


def test_extra_holidays_and_extra_working_days_from_configuration() -> None:
    cal = WorkingCalendar(
        extra_holidays=[d("2026-03-10")],  # a Tuesday declared a holiday (e.g. a regional election)
        extra_working_days=[d("2026-03-28"), d("2026-03-24")],  # a Saturday worked; a cuti bersama revoked
    )
    assert not cal.is_working_day(d("2026-03-10"))
    assert cal.holiday_name(d("2026-03-10")) == "Hari libur tambahan"
    assert cal.is_working_day(d("2026-03-28"))
    assert cal.is_working_day(d("2026-03-24"))
    assert cal.holiday_name(d("2026-03-24")) is None
    assert CAL.holiday_name(d("2026-03-24")) == "Cuti Bersama Hari Raya Idul Fitri"  # the default calendar keeps it

    monday = local("2026-03-09T10:00")
    assert CAL.add_working_days(monday, 1, "WIB") == end_of("2026-03-10")
    assert cal.add_working_days(monday, 1, "WIB") == end_of("2026-03-11")
    friday = local("2026-03-27T10:00")
    assert CAL.add_working_days(friday, 1, "WIB") == end_of("2026-03-30")
    assert cal.add_working_days(friday, 1, "WIB") == end_of("2026-03-28")
    assert cal.add_working_days(local("2026-03-17T10:00"), 1, "WIB") == end_of("2026-03-24")
    assert cal.working_days_in(d("2026-03-09"), d("2026-03-15")) == 4


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="both in extra_holidays and extra_working_days"):
        WorkingCalendar(extra_holidays=[d("2026-03-10")], extra_working_days=[d("2026-03-10")])
    with pytest.raises(TypeError, match="must hold dates"):
        WorkingCalendar(extra_holidays=[datetime(2026, 3, 10, tzinfo=UTC)])


def test_add_working_time_fractions() -> None:
    monday = local("2026-03-02T10:00")
    assert CAL.add_working_time(monday, 2.4, "WIB") == local("2026-03-05T09:36")
    assert CAL.add_working_time(monday, 0.5, "WIB") == local("2026-03-03T12:00")
    assert CAL.add_working_time(monday, 2.0, "WIB") == end_of("2026-03-04")
    assert CAL.add_working_time(monday, 0, "WIB") == monday
    # A fraction lands in the next working day: from Friday, after the weekend.
    assert CAL.add_working_time(local("2026-03-06T15:00"), 1.25, "WIB") == local("2026-03-10T06:00")
    # Around Lebaran: 0.5 day from Tuesday 17 March is noon of Wednesday 25 March.
    assert CAL.add_working_time(local("2026-03-17T10:00"), 0.5, "WIB") == local("2026-03-25T12:00")
    # A fraction just under 1 never spills past the end of its day.
    assert CAL.add_working_time(monday, 1 - 1e-15, "WIB") <= end_of("2026-03-03")


def test_working_time_between() -> None:
    assert CAL.working_time_between(local("2026-03-06T12:00"), local("2026-03-09T12:00"), "WIB") == 1.0
    assert CAL.working_time_between(local("2026-03-09T06:00"), local("2026-03-09T18:00"), "WIB") == 0.5
    assert CAL.working_time_between(local("2026-03-07T00:00"), local("2026-03-09T00:00"), "WIB") == 0.0
    # Tuesday noon before Lebaran to Wednesday noon after: 0.5 + 0.5, the eight days between count nothing.
    assert CAL.working_time_between(local("2026-03-17T12:00"), local("2026-03-25T12:00"), "WIB") == 1.0
    # Measured in WIT, the same instants shift by two hours on the local days.
    assert CAL.working_time_between(local("2026-03-06T12:00"), local("2026-03-09T12:00"), "WIT") == pytest.approx(
        (10 + 14) / 24
    )
    a, b = local("2026-03-09T06:00"), local("2026-03-10T06:00")
    assert CAL.working_time_between(b, a, "WIB") == 0.0
    assert CAL.working_time_between(a, a, "WIB") == 0.0


def test_pause_extension_of_a_deadline() -> None:
    deadline = CAL.add_working_days(local("2026-03-02T10:00"), 5, "WIB")  # Monday 9 March, end of day
    assert deadline == end_of("2026-03-09")
    paused = CAL.working_time_between(local("2026-03-04T12:00"), local("2026-03-09T18:00"), "WIB")
    assert paused == pytest.approx(0.5 + 1 + 1 + 0.75)  # Wed pm, Thu, Fri; the weekend; Mon to 18:00
    extended = CAL.add_working_time(deadline, paused, "WIB")
    assert extended == local("2026-03-13T06:00")  # Tue, Wed, Thu whole, then 0.25 of Friday
    assert CAL.working_time_between(deadline, extended, "WIB") == pytest.approx(paused)


def test_days_helpers() -> None:
    assert CAL.working_days_in(d("2026-03-09"), d("2026-03-09")) == 1
    assert CAL.working_days_in(d("2026-03-07"), d("2026-03-08")) == 0
    assert CAL.working_days_in(d("2026-03-10"), d("2026-03-09")) == 0
    assert CAL.next_working_day(d("2026-03-13")) == d("2026-03-16")
    assert CAL.next_working_day(d("2026-03-17")) == d("2026-03-25")


def test_days_helpers_year_count_matches_the_library() -> None:
    listed = holidays.country_holidays("ID", years=2026, categories=("public", "government"))
    weekdays = [d("2026-01-01") + timedelta(days=i) for i in range(365)]
    expected = sum(1 for day in weekdays if day.weekday() < 5 and day not in listed)
    assert CAL.working_days_in(d("2026-01-01"), d("2026-12-31")) == expected
    # 261 weekdays, minus 13 national holidays on weekdays and 8 cuti bersama.
    assert expected == 261 - 13 - 8


def test_zone_accepts_both_forms_and_refuses_others() -> None:
    assert set(ZONES) == {"WIB", "WITA", "WIT"}
    for abbr, iana in ZONES.items():
        assert zone(abbr) == zone(iana) == zone(abbr.lower())
        assert zone(abbr).key == iana
    for bad in ("UTC", "Asia/Singapore", "", "wib "):
        with pytest.raises(ValueError, match="unknown timezone"):
            zone(bad)


def test_validation() -> None:
    t = local("2026-03-09T10:00")
    with pytest.raises(ValueError, match="n must be >= 0"):
        CAL.add_working_days(t, -1, "WIB")
    with pytest.raises(ValueError, match="days must be a finite number >= 0"):
        CAL.add_working_time(t, -0.5, "WIB")
    with pytest.raises(ValueError, match="days must be a finite number >= 0"):
        CAL.add_working_time(t, float("nan"), "WIB")
    with pytest.raises(ValueError, match="unknown timezone"):
        CAL.add_working_days(t, 1, "Europe/Berlin")
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_days(datetime(2026, 3, 9, 10), 1, "WIB")
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_time(datetime(2026, 3, 9, 10), 1.5, "WIB")
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.working_time_between(t, datetime(2026, 3, 10), "WIB")
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_days(datetime(2026, 3, 9, 10), 0, "WIB")


def test_add_working_days_is_fast() -> None:
    t = local("2026-03-17T10:00")
    CAL.add_working_days(t, 60, "WIB")  # warm the year caches
    began = timer.perf_counter()
    for _ in range(200):
        CAL.add_working_days(t, 60, "WIB")
    per_call = (timer.perf_counter() - began) / 200
    assert per_call < 0.002  # about 50 microseconds on a laptop; generous for slow CI


# -- properties -------------------------------------------------------------------------------------------------

TZ_NAMES = st.sampled_from([*ZONES, *ZONES.values()])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31, 23, 59, 59), timezones=st.just(UTC)
)
N = st.integers(min_value=0, max_value=80)
PROPS = settings(max_examples=150, deadline=None)


def remaining_working_part_of_day(t: datetime, tz: str) -> float:
    """What is left of t's local day, in days, if that day is a working day (else 0); computed independently."""
    z = zone(tz)
    local_t = t.astimezone(z)
    if not CAL.is_working_day(local_t.date()):
        return 0.0
    next_midnight = datetime.combine(local_t.date() + timedelta(days=1), time(0), tzinfo=z)
    return (next_midnight - local_t) / timedelta(days=1)


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=1, max_value=80), tz=TZ_NAMES)
def test_deadline_is_the_last_instant_of_a_working_day(t: datetime, n: int, tz: str) -> None:
    due = CAL.add_working_days(t, n, tz)
    assert due.tzinfo is UTC
    local_due = due.astimezone(zone(tz))
    assert CAL.is_working_day(local_due.date())
    assert local_due.time() == END
    assert local_due.date() > t.astimezone(zone(tz)).date()
    # exactly n working days lie after t's local date, up to and including the deadline's date
    assert CAL.working_days_in(t.astimezone(zone(tz)).date() + timedelta(days=1), local_due.date()) == n


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=0, max_value=79), tz=TZ_NAMES)
def test_deadline_moves_forward_with_n(t: datetime, n: int, tz: str) -> None:
    assert CAL.add_working_days(t, n, tz) < CAL.add_working_days(t, n + 1, tz)
    assert CAL.add_working_days(t, 0, tz) == t


@PROPS
@given(t=INSTANTS, n=N, m=N, tz=TZ_NAMES)
def test_adding_n_then_m_is_adding_n_plus_m(t: datetime, n: int, m: int, tz: str) -> None:
    assert CAL.add_working_days(CAL.add_working_days(t, n, tz), m, tz) == CAL.add_working_days(t, n + m, tz)


@PROPS
@given(t=INSTANTS, n=N, tz=TZ_NAMES)
def test_whole_working_time_is_working_days(t: datetime, n: int, tz: str) -> None:
    assert CAL.add_working_time(t, float(n), tz) == CAL.add_working_days(t, n, tz)
    assert CAL.add_working_time(t, n, tz) == CAL.add_working_days(t, n, tz)


@PROPS
@given(
    day=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    x=st.floats(min_value=0.001, max_value=80, allow_nan=False, allow_infinity=False),
    tz=TZ_NAMES,
)
def test_measured_time_from_a_working_midnight_is_x_plus_that_whole_day(day: date, x: float, tz: str) -> None:
    # From the local midnight of a working day D, day 1 is the NEXT working day, so the measured working time
    # also contains D itself: x + 1 (not x).
    day = day if CAL.is_working_day(day) else CAL.next_working_day(day)
    t = datetime.combine(day, time(0), tzinfo=zone(tz))
    measured = CAL.working_time_between(t, CAL.add_working_time(t, x, tz), tz)
    assert measured == pytest.approx(x + 1, abs=1e-9)


@PROPS
@given(t=INSTANTS, x=st.floats(min_value=0.001, max_value=80, allow_nan=False, allow_infinity=False), tz=TZ_NAMES)
def test_measured_time_is_x_plus_the_rest_of_the_start_day(t: datetime, x: float, tz: str) -> None:
    measured = CAL.working_time_between(t, CAL.add_working_time(t, x, tz), tz)
    assert measured == pytest.approx(x + remaining_working_part_of_day(t, tz), abs=1e-9)


@PROPS
@given(t=INSTANTS, n=st.integers(min_value=1, max_value=60), x=st.floats(min_value=0, max_value=40), tz=TZ_NAMES)
def test_extending_a_deadline_adds_exactly_the_working_time(t: datetime, n: int, x: float, tz: str) -> None:
    deadline = CAL.add_working_days(t, n, tz)
    extended = CAL.add_working_time(deadline, x, tz)
    assert extended >= deadline
    assert CAL.working_time_between(deadline, extended, tz) == pytest.approx(x, abs=1e-9)


@PROPS
@given(a=INSTANTS, b=INSTANTS, c=INSTANTS, tz=TZ_NAMES)
def test_working_time_between_is_additive_and_bounded(a: datetime, b: datetime, c: datetime, tz: str) -> None:
    a, b, c = sorted([a, b, c])
    ab = CAL.working_time_between(a, b, tz)
    bc = CAL.working_time_between(b, c, tz)
    assert CAL.working_time_between(a, c, tz) == pytest.approx(ab + bc, abs=1e-9)
    assert 0 <= ab <= (b - a) / timedelta(days=1) + 1e-9
    assert CAL.working_time_between(b, a, tz) == 0.0


@PROPS
@given(t=INSTANTS, days=st.floats(min_value=0, max_value=80), tz=TZ_NAMES)
def test_working_time_lands_in_working_time_and_is_monotone(t: datetime, days: float, tz: str) -> None:
    result = CAL.add_working_time(t, days, tz)
    later = CAL.add_working_time(t, days + 0.01, tz)
    assert result <= later
    if days > 0:
        assert result > t
        assert CAL.is_working_day(result.astimezone(zone(tz)).date())
