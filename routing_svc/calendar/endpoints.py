"""The working-day calendar the SLA clocks count on: a year's days off, and the deadline of N working days."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from routing_svc.auth import StaffDep
from routing_svc.calendar.schemas import CalendarYear, DayOff, Deadline
from routing_svc.dependencies import CaseCtxDep
from routing_svc.directory.schemas import TimezoneIn
from shared.calendar import zone
from shared.domain import Timezone
from shared.errors import ApiError, error_responses
from shared.http.inputs import IsoDateTime

router = APIRouter(prefix="/api/v1/hub/calendar", tags=["calendar"])

MEANING = """
A working day is Monday to Friday, minus Indonesia's national holidays and cuti bersama (from the `holidays`
package), minus the hub's configured extra holidays, plus its configured extra working days. "Due in N working
days" is the end (23:59:59.999999 local) of the Nth working day after the local date of the start, in the node's
timezone; the start day never counts as day 1.
"""


@router.get(
    "/deadline",
    response_model=Deadline,
    status_code=200,
    responses=error_responses(401, 403, 422),
    description="When a clock of `working_days` started at `start` is due in `timezone`.\n" + MEANING,
)
async def deadline(
    ctx: CaseCtxDep,
    _: StaffDep,
    start: Annotated[
        IsoDateTime, Query(description="An ISO 8601 instant with its offset, e.g. 2026-03-17T10:00+07:00.")
    ],
    working_days: Annotated[int, Query(ge=0, le=400)],
    timezone: Annotated[TimezoneIn, Query()] = Timezone.WIB,
) -> Deadline:
    """The deadline of N working days from an instant, in a node timezone."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ApiError(422, "naive_datetime", "start needs a UTC offset, e.g. 2026-03-17T10:00:00+07:00")
    try:
        due = ctx.sla.rules.calendar.add_working_days(start, working_days, timezone.value)
    except (ValueError, OverflowError) as exc:
        raise ApiError(422, "out_of_range", str(exc)) from exc
    return Deadline(
        start=start.astimezone(UTC),
        working_days=working_days,
        timezone=timezone,
        due_at=due,
        due_date=due.astimezone(zone(timezone.value)).date(),
    )


@router.get(
    "/{year}",
    response_model=CalendarYear,
    status_code=200,
    responses=error_responses(401, 403, 422),
    description="The days off of a year, as the SLA clocks count them.\n" + MEANING,
)
async def calendar_year(year: Annotated[int, Path(ge=2000, le=2100)], ctx: CaseCtxDep, _: StaffDep) -> CalendarYear:
    """A year's weekdays off (holidays and cuti bersama) and its number of working days."""
    cal = ctx.sla.rules.calendar
    first, last = date(year, 1, 1), date(year, 12, 31)
    days_off: list[DayOff] = []
    extra: list[date] = []
    day = first
    while day <= last:
        working = cal.is_working_day(day)
        if day.weekday() < 5 and not working:
            days_off.append(DayOff(date=day, name=cal.holiday_name(day) or "Hari libur"))
        elif day.weekday() >= 5 and working:
            extra.append(day)
        day += timedelta(days=1)
    return CalendarYear(
        year=year, working_days=cal.working_days_in(first, last), days_off=days_off, extra_working_days=extra
    )
