"""Keeping the case projection from routing's events: the reporter's timezone from complaint.submitted (the region),
the status from complaint.status_changed (newer case_version only) and the running deadlines of each node from
sla.clocks_changed (newer clocks_version only). Nothing of the complaint's text is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases import repository
from notify_svc.cases.regions import timezone_of_region
from shared.db.dialect import Offered
from shared.domain import ClockState
from shared.events.contracts import ComplaintStatusChanged, ComplaintSubmitted, SlaClocksChanged
from shared.logging import get_logger

log = get_logger(__name__)


def _timezone_unknown(table: Table, offered: Offered) -> ColumnElement[bool]:
    return table.c.timezone.is_(None)


async def apply_submitted(session: AsyncSession, data: ComplaintSubmitted, now: datetime) -> None:
    timezone = timezone_of_region(data.case.region_code)
    await repository.upsert_case(session, data.tracking_id, now, {"timezone": timezone}, when=_timezone_unknown)


async def apply_status_changed(session: AsyncSession, data: ComplaintStatusChanged, now: datetime) -> None:
    values: dict[str, Any] = {"status": data.status.value, "case_version": data.case_version}
    await repository.upsert_case_if_newer(
        session, data.tracking_id, now, values if data.case_version > 0 else {"case_version": 0}, version="case_version"
    )


async def apply_clocks_changed(session: AsyncSession, data: SlaClocksChanged, now: datetime) -> None:
    written = await repository.upsert_case_if_newer(
        session,
        data.tracking_id,
        now,
        {"clocks_version": max(data.clocks_version, 0)},
        version="clocks_version",
    )
    if not written or data.clocks_version <= 0:
        log.info("stale_clocks_ignored", clocks_version=data.clocks_version)
        return
    running = [
        {"position": i, "clock": c.name.value, "agency_code": c.agency_code, "due_at": c.due_at.astimezone(UTC)}
        for i, c in enumerate(data.clocks)
        if c.agency_code is not None and c.stopped_at is None and not c.paused and c.state is not ClockState.met
    ]
    await repository.replace_deadlines(session, data.tracking_id, running)
