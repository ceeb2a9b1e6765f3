"""The working-day calendar on real 2026/2027 dates, written out by hand (properties: test_calendar_properties.py)."""

from __future__ import annotations

import time as timer
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest

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


# -- what the holidays package gives -------------------------------------------------------------------------------

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


# -- the package's 2026 and 2027 lists, as the SKB 3 Menteri give them ---------------------------------------------

PUBLIC_2026 = [
    "2026-01-01",  # Tahun Baru Masehi (Thu)
    "2026-01-16",  # Isra Mikraj (Fri)
    "2026-02-17",  # Tahun Baru Imlek (Tue)
    "2026-03-19",  # Nyepi (Thu)
    "2026-03-21",  # Idul Fitri (Sat)
    "2026-03-22",  # Idul Fitri, second day (Sun)
    "2026-04-03",  # Wafat Yesus Kristus (Fri)
    "2026-04-05",  # Kebangkitan Yesus Kristus (Sun)
    "2026-05-01",  # Hari Buruh (Fri)
    "2026-05-14",  # Kenaikan Yesus Kristus (Thu)
    "2026-05-27",  # Idul Adha (Wed)
    "2026-05-31",  # Waisak (Sun)
    "2026-06-01",  # Hari Lahir Pancasila (Mon)
    "2026-06-16",  # Tahun Baru Islam (Tue)
    "2026-08-17",  # Hari Kemerdekaan (Mon)
    "2026-08-25",  # Maulid Nabi (Tue)
    "2026-12-25",  # Natal (Fri)
]
PUBLIC_2027 = [
    "2027-01-01",  # Tahun Baru Masehi (Fri)
    "2027-01-05",  # Isra Mikraj (Tue)
    "2027-02-06",  # Tahun Baru Imlek (Sat)
    "2027-03-08",  # Nyepi (Mon)
    "2027-03-10",  # Idul Fitri (Wed, "perkiraan")
    "2027-03-11",  # Idul Fitri, second day (Thu, "perkiraan")
    "2027-03-26",  # Wafat Yesus Kristus (Fri)
    "2027-03-28",  # Kebangkitan Yesus Kristus (Sun)
    "2027-05-01",  # Hari Buruh (Sat)
    "2027-05-06",  # Kenaikan Yesus Kristus (Thu)
    "2027-05-17",  # Idul Adha (Mon, "perkiraan")
    "2027-05-20",  # Waisak (Thu)
    "2027-06-01",  # Hari Lahir Pancasila (Tue)
    "2027-06-06",  # Tahun Baru Islam (Sun)
    "2027-08-15",  # Maulid Nabi (Sun)
    "2027-08-17",  # Hari Kemerdekaan (Tue)
    "2027-12-25",  # Natal (Sat)
    "2027-12-26",  # Isra Mikraj, the second one of 2027 (Sun)
]


@pytest.mark.parametrize(("year", "expected"), [(2026, PUBLIC_2026), (2027, PUBLIC_2027)])
def test_public_category_is_the_national_holidays(year: int, expected: list[str]) -> None:
    public = holidays.country_holidays("ID", years=year, categories=("public",), language="id")
    assert sorted(day.isoformat() for day in public) == expected
    for day in expected:
        assert CAL.holiday_name(d(day)) is not None
        assert not CAL.is_working_day(d(day))


def test_working_days_per_year_and_around_lebaran() -> None:
    # 2027: 261 weekdays, minus 11 national holidays on weekdays and 8 cuti bersama (all on weekdays).
    assert CAL.working_days_in(d("2027-01-01"), d("2027-12-31")) == 261 - 11 - 8
    # March 2026: 22 weekdays, minus 18 (cuti), 19 (Nyepi), 20, 23, 24 (cuti).
    assert CAL.working_days_in(d("2026-03-01"), d("2026-03-31")) == 17
    # March 2027: 23 weekdays, minus 8 (Nyepi), 9 (cuti), 10-11 (Idul Fitri), 12, 15 (cuti), 25 (cuti), 26 (Wafat).
    assert CAL.working_days_in(d("2027-03-01"), d("2027-03-31")) == 15
    # 2028 has no cuti bersama in the package yet: 31 December 2027 (Friday) is a working day.
    assert CAL.is_working_day(d("2027-12-31"))
    assert CAL.holiday_name(d("2027-03-10")) == "Hari Raya Idul Fitri (perkiraan)"


# -- "due in N working days", written out by hand ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "tz", "n", "due"),
    [
        # Imlek 2026: Mon 16 February cuti bersama, Tue 17 Imlek.
        ("2026-02-13T14:00", "WIB", 1, "2026-02-18"),
        ("2026-02-13T14:00", "WIB", 3, "2026-02-20"),
        ("2026-02-16T09:00", "WITA", 1, "2026-02-18"),  # received on the cuti bersama itself
        # Nyepi and Lebaran 2026: 18 March to 24 March are all off.
        ("2026-03-12T10:00", "WIB", 5, "2026-03-26"),  # Fri 13, Mon 16, Tue 17, Wed 25, Thu 26
        ("2026-03-13T10:00", "WIB", 10, "2026-04-06"),  # ... Fri 27, Mon 30, Tue 31, Wed 1, Thu 2, (Good Friday) Mon 6
        ("2026-03-16T09:00", "WIB", 1, "2026-03-17"),
        ("2026-03-16T09:00", "WIB", 2, "2026-03-25"),
        ("2026-03-18T10:00", "WIB", 1, "2026-03-25"),  # on the cuti bersama of Nyepi
        ("2026-03-20T08:00", "WITA", 1, "2026-03-25"),  # on the cuti bersama of Idul Fitri
        ("2026-03-21T10:00", "WIT", 2, "2026-03-26"),  # on Idul Fitri
        ("2026-03-24T23:00", "WIB", 1, "2026-03-25"),  # late on the last cuti bersama
        ("2026-03-27T10:00", "WIB", 5, "2026-04-06"),  # Good Friday, 3 April
        # Kenaikan 2026: Thu 14 May, cuti bersama Fri 15.
        ("2026-05-13T10:00", "WIB", 1, "2026-05-18"),
        # Idul Adha 2026: Wed 27 May, cuti bersama Thu 28; Fri 29 works; Mon 1 June is Pancasila.
        ("2026-05-26T10:00", "WIB", 1, "2026-05-29"),
        ("2026-05-26T10:00", "WIB", 2, "2026-06-02"),
        # Christmas 2026 and New Year 2027: cuti bersama Thu 24, Natal Fri 25; 1 Jan; Isra Mikraj Tue 5 Jan.
        ("2026-12-23T15:00", "WIB", 1, "2026-12-28"),
        ("2026-12-24T10:00", "WIT", 1, "2026-12-28"),  # on the cuti bersama
        ("2026-12-30T10:00", "WIB", 1, "2026-12-31"),
        ("2026-12-30T10:00", "WIB", 2, "2027-01-04"),
        ("2026-12-30T10:00", "WIB", 3, "2027-01-06"),
        ("2026-12-31T16:00", "WITA", 1, "2027-01-04"),
        ("2027-01-01T10:00", "WIT", 1, "2027-01-04"),  # on New Year's Day
        # Imlek 2027: cuti bersama Fri 5 February, Imlek Sat 6.
        ("2027-02-04T10:00", "WIB", 1, "2027-02-08"),
        # Nyepi and Lebaran 2027: Nyepi Mon 8 March, cuti 9, Idul Fitri 10-11, cuti 12, weekend, cuti 15.
        ("2027-03-04T10:00", "WIB", 1, "2027-03-05"),
        ("2027-03-04T10:00", "WIB", 2, "2027-03-16"),
        ("2027-03-05T10:00", "WIB", 1, "2027-03-16"),
        ("2027-03-05T10:00", "WIB", 5, "2027-03-22"),  # Tue 16, Wed 17, Thu 18, Fri 19, Mon 22
        ("2027-03-09T10:00", "WITA", 1, "2027-03-16"),  # on a cuti bersama
        ("2027-03-13T10:00", "WIT", 1, "2027-03-16"),  # the weekend inside Lebaran
        ("2027-03-15T23:30", "WIB", 1, "2027-03-16"),  # late on the last cuti bersama
        # Easter 2027: cuti bersama Thu 25 March, Wafat Fri 26.
        ("2027-03-19T10:00", "WIB", 5, "2027-03-30"),  # Mon 22, Tue 23, Wed 24, Mon 29, Tue 30
        # Idul Adha and Waisak 2027: Mon 17 May, cuti 18 and 19, Waisak Thu 20.
        ("2027-05-14T10:00", "WIB", 1, "2027-05-21"),
        ("2027-05-14T10:00", "WIB", 2, "2027-05-24"),
        # Christmas 2027 (a Saturday, cuti bersama Fri 24) and New Year 2028 (a Saturday).
        ("2027-12-23T09:00", "WIB", 1, "2027-12-27"),
        ("2027-12-23T09:00", "WIB", 5, "2027-12-31"),
        ("2027-12-23T09:00", "WIB", 6, "2028-01-03"),
        ("2027-12-24T10:00", "WIT", 1, "2027-12-27"),
        ("2027-12-31T10:00", "WITA", 1, "2028-01-03"),
        # Plain weekends in 2027.
        ("2027-04-02T18:00", "WIB", 1, "2027-04-05"),  # Friday evening
        ("2027-04-03T10:00", "WITA", 1, "2027-04-05"),  # Saturday
        ("2027-04-04T23:59", "WIT", 5, "2027-04-09"),  # Sunday, a minute before midnight
        ("2027-04-05T00:00", "WIT", 5, "2027-04-12"),  # Monday midnight: Monday itself is not day 1
    ],
)
def test_due_in_n_working_days(received: str, tz: str, n: int, due: str) -> None:
    result = CAL.add_working_days(local(received, tz), n, tz)
    assert result == end_of(due, tz)
    assert result.tzinfo is UTC


def test_an_instant_that_is_friday_in_wit_but_still_thursday_in_wib() -> None:
    # Thursday 4 March 2027 23:30 WIB = Friday 5 March 00:30 WITA = Friday 01:30 WIT, the eve of Lebaran's closures.
    instant = datetime(2027, 3, 4, 16, 30, tzinfo=UTC)
    assert instant.astimezone(WIB).strftime("%a %d") == "Thu 04"
    assert instant.astimezone(WITA).strftime("%a %d") == "Fri 05"
    assert instant.astimezone(WIT).strftime("%a %d") == "Fri 05"
    # WIB: day 1 is Friday 5. WITA and WIT: day 1 is Tuesday 16 March, after Nyepi, Idul Fitri and the cuti bersama.
    assert CAL.add_working_days(instant, 1, "WIB") == datetime(2027, 3, 5, 16, 59, 59, 999_999, tzinfo=UTC)
    assert CAL.add_working_days(instant, 1, "WITA") == datetime(2027, 3, 16, 15, 59, 59, 999_999, tzinfo=UTC)
    assert CAL.add_working_days(instant, 1, "WIT") == datetime(2027, 3, 16, 14, 59, 59, 999_999, tzinfo=UTC)
    assert CAL.add_working_days(instant, 2, "WIB") == datetime(2027, 3, 16, 16, 59, 59, 999_999, tzinfo=UTC)
    assert CAL.add_working_days(instant, 2, "WIT") == datetime(2027, 3, 17, 14, 59, 59, 999_999, tzinfo=UTC)


def test_an_instant_that_is_new_years_eve_in_wita_but_the_day_before_in_wib() -> None:
    # Wednesday 30 December 2026 23:30 WIB = Thursday 31 December 00:30 WITA = 01:30 WIT.
    instant = datetime(2026, 12, 30, 16, 30, tzinfo=UTC)
    assert CAL.add_working_days(instant, 1, "WIB") == datetime(2026, 12, 31, 16, 59, 59, 999_999, tzinfo=UTC)
    assert CAL.add_working_days(instant, 1, "WITA") == datetime(2027, 1, 4, 15, 59, 59, 999_999, tzinfo=UTC)
    assert CAL.add_working_days(instant, 1, "WIT") == datetime(2027, 1, 4, 14, 59, 59, 999_999, tzinfo=UTC)
    # 1 Jan (Tahun Baru) and the weekend, then Mon 4 Jan; Tue 5 is Isra Mikraj, so day 2 in WITA is Wed 6.
    assert CAL.add_working_days(instant, 2, "WITA") == datetime(2027, 1, 6, 15, 59, 59, 999_999, tzinfo=UTC)


def test_local_midnight_in_wita_is_the_boundary() -> None:
    # 16:00 UTC is Thursday 23:00 WIB but Friday 00:00 WITA; one microsecond earlier it is still Thursday in WITA.
    midnight_wita = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    assert CAL.add_working_days(midnight_wita, 1, "WIB") == datetime(2026, 3, 6, 16, 59, 59, 999_999, tzinfo=UTC)
    assert CAL.add_working_days(midnight_wita, 1, "WITA") == datetime(2026, 3, 9, 15, 59, 59, 999_999, tzinfo=UTC)
    just_before = midnight_wita - timedelta(microseconds=1)
    assert CAL.add_working_days(just_before, 1, "WITA") == datetime(2026, 3, 6, 15, 59, 59, 999_999, tzinfo=UTC)


def test_the_same_wall_clock_in_three_zones_is_the_same_local_deadline() -> None:
    # 09:00 local on Thursday 23 December 2027, 1 working day: Monday 27 December, end of day in each zone.
    assert CAL.add_working_days(local("2027-12-23T09:00", "WIB"), 1, "WIB") == datetime(
        2027, 12, 27, 16, 59, 59, 999_999, tzinfo=UTC
    )
    assert CAL.add_working_days(local("2027-12-23T09:00", "WITA"), 1, "WITA") == datetime(
        2027, 12, 27, 15, 59, 59, 999_999, tzinfo=UTC
    )
    assert CAL.add_working_days(local("2027-12-23T09:00", "WIT"), 1, "WIT") == datetime(
        2027, 12, 27, 14, 59, 59, 999_999, tzinfo=UTC
    )


def test_configuration_around_lebaran_2027_and_new_year_2028() -> None:
    # A revoked cuti bersama (Mon 15 March 2027) and a decreed one the package does not know yet (Fri 31 Dec 2027).
    cal = WorkingCalendar(extra_working_days=[d("2027-03-15")], extra_holidays=[d("2027-12-31")])
    assert cal.add_working_days(local("2027-03-05T10:00"), 1, "WIB") == end_of("2027-03-15")
    assert CAL.add_working_days(local("2027-03-05T10:00"), 1, "WIB") == end_of("2027-03-16")
    assert cal.add_working_days(local("2027-12-23T09:00", "WIT"), 5, "WIT") == end_of("2028-01-03", "WIT")
    assert CAL.add_working_days(local("2027-12-23T09:00", "WIT"), 5, "WIT") == end_of("2027-12-31", "WIT")
    assert cal.holiday_name(d("2027-12-31")) == "Hari libur tambahan"


# -- fractions of working days -------------------------------------------------------------------------------------


def test_add_working_time_across_2027_holidays_and_zones() -> None:
    # 0.25 from Friday 5 March 2027: 06:00 of the next working day, Tuesday 16 March.
    assert CAL.add_working_time(local("2027-03-05T10:00"), 0.25, "WIB") == datetime(2027, 3, 15, 23, 0, tzinfo=UTC)
    # 1.5 from Thursday 23 December 2027 in WIT: Monday 27 whole, then noon of Tuesday 28.
    assert CAL.add_working_time(local("2027-12-23T09:00", "WIT"), 1.5, "WIT") == datetime(
        2027, 12, 28, 3, 0, tzinfo=UTC
    )
    # 1.75 from Wednesday 30 December 2026 in WITA: Thursday 31 whole, then 18:00 of Monday 4 January 2027.
    assert CAL.add_working_time(local("2026-12-30T10:00", "WITA"), 1.75, "WITA") == datetime(
        2027, 1, 4, 10, 0, tzinfo=UTC
    )


def test_advance_counts_the_rest_of_the_start_day() -> None:
    monday = local("2026-03-09T10:00")
    assert CAL.advance(monday, 0, "WIB") == monday
    assert CAL.advance(monday, 0.25, "WIB") == local("2026-03-09T16:00")
    # 0.5 of Tuesday 17 March 2026, then 0.25 of Wednesday 25 (after Nyepi and Lebaran).
    assert CAL.advance(local("2026-03-17T12:00"), 0.75, "WIB") == datetime(2026, 3, 24, 23, 0, tzinfo=UTC)
    # From Idul Fitri (a Saturday), nothing of the start day counts: Wed 25 whole, then noon of Thu 26.
    assert CAL.advance(local("2026-03-21T10:00"), 1.5, "WIB") == datetime(2026, 3, 26, 5, 0, tzinfo=UTC)
    # Friday 5 March 2027 18:00 WIT: 0.25 left that day, then 0.25 of Tuesday 16 March = 06:00 WIT.
    assert CAL.advance(local("2027-03-05T18:00", "WIT"), 0.5, "WIT") == datetime(2027, 3, 15, 21, 0, tzinfo=UTC)
    # Thursday 23 December 2027 noon WITA: 0.5 that day, then noon of Monday 27.
    assert CAL.advance(local("2027-12-23T12:00", "WITA"), 1.0, "WITA") == datetime(2027, 12, 27, 4, 0, tzinfo=UTC)
    assert CAL.working_time_between(local("2027-12-23T12:00", "WITA"), local("2027-12-27T12:00", "WITA"), "WITA") == 1


@pytest.mark.parametrize(
    ("start", "tz", "days", "last_day"),
    [
        ("2026-03-06T12:00", "WIB", 0.5, "2026-03-06"),  # Friday noon, half a day: before the weekend
        ("2026-03-17T18:00", "WITA", 0.25, "2026-03-17"),  # before the cuti bersama of Nyepi
        ("2026-12-31T00:00", "WIT", 1.0, "2026-12-31"),  # New Year's Eve, a whole day: before Tahun Baru
        ("2027-03-05T00:00", "WIB", 1.0, "2027-03-05"),  # the Friday before Nyepi 2027
    ],
)
def test_advance_by_exactly_the_rest_of_a_day_ends_that_day(start: str, tz: str, days: float, last_day: str) -> None:
    # The clock runs out at the end of the working day, its last instant, as add_working_days puts it: never at
    # the next midnight, which is a weekend or holiday date.
    result = CAL.advance(local(start, tz), days, tz)
    assert result == end_of(last_day, tz)
    assert CAL.working_time_between(local(start, tz), result, tz) == pytest.approx(days, abs=1.2e-11)
    # the same instant as reaching that day's end from the day before, a working day (Thursday noon + 1.5, ...)
    day_before = local(start, tz) - timedelta(days=1)
    assert CAL.is_working_day(day_before.astimezone(zone(tz)).date())
    assert CAL.advance(day_before, days + 1, tz) == result


def test_working_time_between_around_2027_holidays() -> None:
    # Friday noon before Nyepi 2027 to Tuesday noon after Lebaran: 0.5 + 0.5, the ten days between count nothing.
    assert CAL.working_time_between(local("2027-03-05T12:00"), local("2027-03-16T12:00"), "WIB") == 1.0
    # Friday 23:30 WIB (Saturday 01:30 WIT) to Tuesday 08:00 WIB (10:00 WIT): 30 min + 8 h in WIB, 10 h in WIT.
    a, b = local("2027-03-05T23:30"), local("2027-03-16T08:00")
    assert CAL.working_time_between(a, b, "WIB") == pytest.approx(8.5 / 24)
    assert CAL.working_time_between(a, b, "WIT") == pytest.approx(10 / 24)
    # Wednesday 23 December 2026 to Monday 4 January 2027: 23, 28, 29, 30, 31 December.
    assert CAL.working_time_between(local("2026-12-23T00:00"), local("2027-01-04T00:00"), "WIB") == 5.0
    # Inside Lebaran 2027 nothing counts.
    assert CAL.working_time_between(local("2027-03-08T00:00"), local("2027-03-16T00:00"), "WIB") == 0.0


def test_advance_validation() -> None:
    t = local("2026-03-09T10:00")
    with pytest.raises(ValueError, match="days must be a finite number >= 0"):
        CAL.advance(t, -0.5, "WIB")
    with pytest.raises(ValueError, match="days must be a finite number >= 0"):
        CAL.advance(t, float("inf"), "WIB")
    with pytest.raises(TypeError, match="days must be a number"):
        CAL.advance(t, True, "WIB")
    with pytest.raises(TypeError, match="n must be an int"):
        CAL.add_working_days(t, 1.0, "WIB")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.advance(datetime(2026, 3, 9, 10), 0.5, "WIB")
    with pytest.raises(ValueError, match="unknown timezone"):
        CAL.advance(t, 0.5, "Asia/Tokyo")
