"""Case queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases.schemas import CaseQuery
from routing_svc.models import Assignment, Case, CaseHistory, SlaClock
from routing_svc.sla.engine import SLA_KINDS
from shared.http.paging import Page


async def get_case(session: AsyncSession, tracking_id: str, *, for_update: bool = False) -> Case | None:
    stmt = select(Case).where(Case.tracking_id == tracking_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def history(session: AsyncSession, tracking_id: str) -> list[CaseHistory]:
    stmt = select(CaseHistory).where(CaseHistory.tracking_id == tracking_id).order_by(CaseHistory.id)
    return list((await session.execute(stmt)).scalars())


async def list_cases(session: AsyncSession, query: CaseQuery, page: Page, *, now: datetime) -> list[Case]:
    """The cases the query asks for, oldest first (`overdue` judged at `now`); one extra row tells of a next page."""
    stmt = select(Case)
    if query.triage:
        stmt = stmt.where(Case.status == "submitted", Case.agency_code.is_(None))
    if query.status is not None:
        stmt = stmt.where(Case.status == query.status.value)
    if query.agency_code is not None:
        stmt = stmt.where(Case.agency_code == query.agency_code)
    if query.overdue:
        late = (
            select(SlaClock.id)
            .where(
                SlaClock.tracking_id == Case.tracking_id,
                SlaClock.stopped_at.is_(None),
                SlaClock.paused_at.is_(None),
                SlaClock.kind.in_(SLA_KINDS),
                SlaClock.due_at < now,
            )
            .exists()
        )
        stmt = stmt.where(late)
    if query.flagged is not None:
        stmt = stmt.where(Case.flagged if query.flagged else ~Case.flagged)
    if query.escalation_level is not None:
        stmt = stmt.where(Case.escalation_level >= query.escalation_level)
    stmt = stmt.order_by(Case.submitted_at, Case.tracking_id).limit(page.limit + 1).offset(page.offset)
    return list((await session.execute(stmt)).scalars())


async def open_assignment(session: AsyncSession, tracking_id: str) -> Assignment | None:
    stmt = (
        select(Assignment)
        .where(Assignment.tracking_id == tracking_id, Assignment.ended_at.is_(None))
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
