"""Queries on notifications. Nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Notification, NotificationStatus, RecipientKind
from shared.background import made_work
from shared.db.results import rows_affected
from shared.http.paging import Page

WAKE_FLAG = "notifications_due"
"""Marks a transaction that made a notification due now: its commit wakes the sender."""

AWAITING_CONTACT = "awaiting_contact"

TABLE = cast(Table, Notification.__table__)
_T = TABLE


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> tuple[int, list[Notification]]:
    """Take up to `limit` due notifications for sending, oldest due first: how many were due, and those this sender
    won, as they are once claimed. The update re-checks each is still due, so only one sender wins a notification."""
    due = (
        (
            await session.execute(
                select(_T.c.id)
                .where(_T.c.status == NotificationStatus.pending.value, _T.c.next_attempt_at <= now)
                .order_by(_T.c.next_attempt_at)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    if not due:
        return 0, []
    rows = (
        await session.execute(
            update(_T)
            .where(_T.c.id.in_(due), _T.c.status == NotificationStatus.pending.value, _T.c.next_attempt_at <= now)
            .values(next_attempt_at=lease_until, reason=None, updated_at=now)
            .returning(*_T.c)
        )
    ).all()
    order = {notification_id: i for i, notification_id in enumerate(due)}
    won = sorted((Notification(**row._mapping) for row in rows), key=lambda n: order[n.id])
    return len(due), won


async def finish(session: AsyncSession, notification_id: str, **values: Any) -> bool:
    """Update a pending notification (the one this sender holds); False when it is no longer pending."""
    result = await session.execute(
        update(_T).where(_T.c.id == notification_id, _T.c.status == NotificationStatus.pending.value).values(**values)
    )
    return rows_affected(result) == 1


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
    woken = rows_affected(result)
    if woken:
        made_work(session, WAKE_FLAG)
    return woken


async def page(
    session: AsyncSession,
    *,
    tracking_id: str | None,
    status: str | None,
    recipient_kind: str | None,
    page: Page,
) -> list[Notification]:
    """The delivery log, newest first; one row more than the page tells whether another page exists."""
    stmt = select(Notification)
    if tracking_id is not None:
        stmt = stmt.where(Notification.tracking_id == tracking_id)
    if status is not None:
        stmt = stmt.where(Notification.status == status)
    if recipient_kind is not None:
        stmt = stmt.where(Notification.recipient_kind == recipient_kind)
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
    stmt = stmt.limit(page.limit + 1).offset(page.offset)
    return list((await session.execute(stmt)).scalars().all())


async def get(session: AsyncSession, notification_id: str) -> Notification | None:
    return await session.get(Notification, notification_id)
