"""Queries on recipients. Nothing here commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Recipient, RecipientKind
from shared.http.paging import Page


def node_scope(node_code: str) -> str:
    return f"node:{node_code}"


def level_scope(level: int) -> str:
    return f"level:{level}"


async def in_scope(session: AsyncSession, scope: str) -> list[Recipient]:
    """Everyone registered for a node (`node:X`) or a rung (`level:n`), oldest first."""
    stmt = select(Recipient).where(Recipient.scope == scope).order_by(Recipient.created_at, Recipient.id)
    return list((await session.execute(stmt)).scalars())


async def liaison_groups(session: AsyncSession) -> list[tuple[str, str]]:
    """Every (node_code, timezone) that has liaison officers: one digest each a day."""
    stmt = (
        select(Recipient.node_code, Recipient.timezone)
        .where(Recipient.role == RecipientKind.liaison.value, Recipient.node_code.is_not(None))
        .distinct()
        .order_by(Recipient.node_code, Recipient.timezone)
    )
    return [(str(code), str(tz)) for code, tz in (await session.execute(stmt)).all()]


async def page(
    session: AsyncSession, *, role: str | None, node_code: str | None, level: int | None, page: Page
) -> list[Recipient]:
    stmt = select(Recipient)
    if role is not None:
        stmt = stmt.where(Recipient.role == role)
    if node_code is not None:
        stmt = stmt.where(Recipient.node_code == node_code)
    if level is not None:
        stmt = stmt.where(Recipient.level == level)
    stmt = stmt.order_by(Recipient.scope, Recipient.created_at, Recipient.id).limit(page.limit + 1).offset(page.offset)
    return list((await session.execute(stmt)).scalars())
