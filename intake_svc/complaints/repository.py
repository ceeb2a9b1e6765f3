"""Queries behind the reporter's view."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.models import Complaint, FollowUp, Rating, ReporterMessage, TimelineEntry


async def get_complaint(session: AsyncSession, tracking_id: str) -> Complaint | None:
    return await session.get(Complaint, tracking_id)


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


async def messages(session: AsyncSession, tracking_id: str) -> Sequence[ReporterMessage]:
    stmt = (
        select(ReporterMessage)
        .where(ReporterMessage.tracking_id == tracking_id)
        .order_by(ReporterMessage.sent_at, ReporterMessage.message_id)
    )
    return (await session.scalars(stmt)).all()


async def rating(session: AsyncSession, tracking_id: str) -> Rating | None:
    return await session.get(Rating, tracking_id)
