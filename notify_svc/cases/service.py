"""Keeping the case projection from routing's events: the reporter's timezone from complaint.submitted (the region),
the status from complaint.status_changed (newer case_version only) and the running deadlines of each node from
sla.clocks_changed (newer clocks_version only). Nothing of the complaint's text is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases import repository
from notify_svc.cases.regions import timezone_of_region
from shared.domain import ClockState
from shared.events.contracts import ComplaintStatusChanged, ComplaintSubmitted, SlaClocksChanged
from shared.logging import get_logger

log = get_logger(__name__)


async def on_submitted(session: AsyncSession, data: ComplaintSubmitted, now: datetime) -> None:
    case = await repository.locked_case(session, data.tracking_id, now)
    if case.timezone is None:
        case.timezone = timezone_of_region(data.case.region_code)
        case.updated_at = now


async def on_status_changed(session: AsyncSession, data: ComplaintStatusChanged, now: datetime) -> None:
    case = await repository.locked_case(session, data.tracking_id, now)
    if data.case_version > case.case_version:
        case.status = data.status.value
        case.case_version = data.case_version
        case.updated_at = now


async def on_clocks_changed(session: AsyncSession, data: SlaClocksChanged, now: datetime) -> None:
    case = await repository.locked_case(session, data.tracking_id, now)
    if data.clocks_version <= case.clocks_version:
        log.info("stale_clocks_ignored", clocks_version=data.clocks_version)
        return
    case.clocks_version = data.clocks_version
    case.updated_at = now
    running = [
        {"position": i, "clock": c.name.value, "agency_code": c.agency_code, "due_at": c.due_at.astimezone(UTC)}
        for i, c in enumerate(data.clocks)
        if c.agency_code is not None and c.stopped_at is None and not c.paused and c.state is not ClockState.met
    ]
    await repository.replace_deadlines(session, data.tracking_id, running)
