"""Queries on notifications. Nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Notification, NotificationStatus, RecipientKind
from shared.background import made_work

WAKE_FLAG = "notifications_due"
"""Marks a transaction that made a notification due now: its commit wakes the sender."""

AWAITING_CONTACT = "awaiting_contact"

TABLE = cast(Table, Notification.__table__)
_T = TABLE


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


async def due(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Pending notifications whose time has come, oldest due first (served by the (status, next_attempt_at) index)."""
    stmt = (
        select(Notification.id)
        .where(Notification.status == NotificationStatus.pending.value, Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


async def claim(session: AsyncSession, notification_id: str, now: datetime, lease_until: datetime) -> bool:
    """Take a due notification for sending: only one sender wins it (the update re-checks it is still due)."""
    result = await session.execute(
        update(_T)
        .where(
            _T.c.id == notification_id,
            _T.c.status == NotificationStatus.pending.value,
            _T.c.next_attempt_at <= now,
        )
        .values(next_attempt_at=lease_until, reason=None, updated_at=now)
    )
    return _rowcount(result) == 1


async def finish(session: AsyncSession, notification_id: str, **values: Any) -> bool:
    """Update a pending notification (the one this sender holds); False when it is no longer pending."""
    result = await session.execute(
        update(_T).where(_T.c.id == notification_id, _T.c.status == NotificationStatus.pending.value).values(**values)
    )
    return _rowcount(result) == 1


async def release(session: AsyncSession, ids: list[str], now: datetime) -> None:
    """Give back notifications claimed but not processed (the sender is stopping): due again now."""
    await session.execute(
        update(_T)
        .where(_T.c.id.in_(ids), _T.c.status == NotificationStatus.pending.value)
        .values(next_attempt_at=now, updated_at=now)
    )


async def wake_awaiting_contact(session: AsyncSession, tracking_id: str, now: datetime) -> int:
    """Make the reporter's notifications that wait for their contact due now. Rows held by a sender are untouched."""
    result = await session.execute(
        update(_T)
        .where(
            _T.c.tracking_id == tracking_id,
            _T.c.recipient_kind == RecipientKind.reporter.value,
            _T.c.status == NotificationStatus.pending.value,
            _T.c.reason == AWAITING_CONTACT,
        )
        .values(next_attempt_at=now, reason=None, updated_at=now)
    )
    woken = _rowcount(result)
    if woken:
        made_work(session, WAKE_FLAG)
    return woken


async def page(
    session: AsyncSession,
    *,
    tracking_id: str | None,
    status: str | None,
    recipient_kind: str | None,
    limit: int,
    offset: int,
) -> list[Notification]:
    """The delivery log, newest first; one row more than `limit` tells whether another page exists."""
    stmt = select(Notification)
    if tracking_id is not None:
        stmt = stmt.where(Notification.tracking_id == tracking_id)
    if status is not None:
        stmt = stmt.where(Notification.status == status)
    if recipient_kind is not None:
        stmt = stmt.where(Notification.recipient_kind == recipient_kind)
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1).offset(offset)
    return list((await session.execute(stmt)).scalars().all())


async def get(session: AsyncSession, notification_id: str) -> Notification | None:
    return await session.get(Notification, notification_id)
