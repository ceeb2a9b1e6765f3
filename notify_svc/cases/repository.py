"""Queries on the case projection and its deadlines. Nothing here commits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Base, CaseDeadline, CaseState
from shared.db.dialect import dialect_of

_CASES = Base.metadata.tables[CaseState.__tablename__]


async def upsert_case(
    session: AsyncSession,
    tracking_id: str,
    now: datetime,
    values: dict[str, Any],
    *,
    when: Callable[[Any], ColumnElement[bool]],
) -> bool:
    """Create the case's row with `values`, or set them on it when `when(excluded)` holds (`excluded`: the values
    offered); whether the row was written. One statement, so concurrent consumers cannot interleave."""
    stmt: Any = (postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert)(_CASES)
    stmt = stmt.values(**{"tracking_id": tracking_id, "case_version": 0, "clocks_version": 0, **values}, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tracking_id"],
        set_={**{name: stmt.excluded[name] for name in values}, "updated_at": stmt.excluded.updated_at},
        where=when(stmt.excluded),
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def status_of(session: AsyncSession, tracking_id: str) -> str | None:
    return (
        await session.execute(select(CaseState.status).where(CaseState.tracking_id == tracking_id))
    ).scalar_one_or_none()


async def replace_deadlines(session: AsyncSession, tracking_id: str, deadlines: Sequence[Mapping[str, object]]) -> None:
    """The case's running node clocks become exactly `deadlines` (position, clock, agency_code, due_at)."""
    await session.execute(delete(CaseDeadline).where(CaseDeadline.tracking_id == tracking_id))
    if deadlines:
        await session.execute(insert(CaseDeadline), [{"tracking_id": tracking_id, **d} for d in deadlines])


async def deadlines_of_node(session: AsyncSession, agency_code: str, until: datetime) -> list[CaseDeadline]:
    """The node's running clocks due by `until`, soonest first (served by the (agency_code, due_at) index)."""
    stmt = (
        select(CaseDeadline)
        .where(CaseDeadline.agency_code == agency_code, CaseDeadline.due_at <= until)
        .order_by(CaseDeadline.due_at, CaseDeadline.tracking_id)
    )
    return list((await session.execute(stmt)).scalars())
