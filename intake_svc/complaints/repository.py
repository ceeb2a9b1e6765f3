"""Queries behind the reporter's view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.models import Complaint, Contact, FollowUp, Rating, ReporterMessage, TimelineEntry


async def get_complaint(session: AsyncSession, tracking_id: str) -> Complaint | None:
    return await session.get(Complaint, tracking_id)


async def contact(session: AsyncSession, tracking_id: str) -> Contact | None:
    """The reporter's contact details, sealed."""
    return await session.get(Contact, tracking_id)


async def timeline(session: AsyncSession, tracking_id: str) -> Sequence[TimelineEntry]:
    stmt = (
        select(TimelineEntry)
        .where(TimelineEntry.tracking_id == tracking_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return (await session.scalars(stmt)).all()


async def follow_ups(session: AsyncSession, tracking_id: str) -> Sequence[FollowUp]:
    stmt = (
        select(FollowUp).where(FollowUp.tracking_id == tracking_id).order_by(FollowUp.posted_at, FollowUp.followup_id)
    )
    return (await session.scalars(stmt)).all()


async def lock_complaint(session: AsyncSession, complaint: Complaint) -> None:
    """Holds the case's row until commit (PostgreSQL), so that concurrent messages to it are counted one at a time."""
    await session.refresh(complaint, with_for_update=True)


async def messages(session: AsyncSession, tracking_id: str, *, limit: int, offset: int) -> Sequence[ReporterMessage]:
    """A page of the case's messages, newest first."""
    stmt = (
        select(ReporterMessage)
        .where(ReporterMessage.tracking_id == tracking_id)
        .order_by(ReporterMessage.sent_at.desc(), ReporterMessage.message_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(stmt)).all()


async def message_total(session: AsyncSession, tracking_id: str) -> int:
    stmt = select(func.count()).select_from(ReporterMessage).where(ReporterMessage.tracking_id == tracking_id)
    return int((await session.execute(stmt)).scalar_one())


async def message_counts(session: AsyncSession, tracking_id: str, since: datetime) -> tuple[int, int]:
    """How many messages the case has, and how many of them were sent after `since`."""
    m = ReporterMessage
    stmt = select(func.count(), func.count(case((m.sent_at > since, 1)))).where(m.tracking_id == tracking_id)
    total, recent = (await session.execute(stmt)).one()
    return int(total), int(recent)


async def nth_newest_sent_at(session: AsyncSession, tracking_id: str, n: int) -> datetime | None:
    """When the case's n-th newest message (1 = the newest) was sent."""
    m = ReporterMessage
    stmt = (
        select(m.sent_at)
        .where(m.tracking_id == tracking_id)
        .order_by(m.sent_at.desc(), m.message_id.desc())
        .offset(n - 1)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def rating(session: AsyncSession, tracking_id: str) -> Rating | None:
    return await session.get(Rating, tracking_id)
