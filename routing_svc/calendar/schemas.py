"""The working-day calendar as the API shows it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from shared.domain import Timezone


class DayOff(BaseModel):
    date: date
    name: str = Field(description="The holiday or cuti bersama, or 'Hari libur tambahan' for a configured date.")


class CalendarYear(BaseModel):
    year: int
    working_days: int = Field(description="How many working days the year has.")
    days_off: list[DayOff] = Field(description="Weekdays that are not working days, in date order.")
    extra_working_days: list[date] = Field(description="Configured dates that are working days although off.")


class Deadline(BaseModel):
    start: datetime
    working_days: int
    timezone: Timezone
    due_at: datetime = Field(description="The end of the Nth working day after the start's local date, in UTC.")
    due_date: date = Field(description="The local date of the deadline.")
