"""Queries on the case projection and its deadlines. Nothing here commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Base, CaseDeadline, CaseState
from shared.db.dialect import Guard, dialect_of, upsert, upsert_params
from shared.db.newer import write_if_newer
from shared.db.results import rows_affected

_CASES = Base.metadata.tables[CaseState.__tablename__]


async def upsert_case(
    session: AsyncSession, tracking_id: str, now: datetime, values: dict[str, Any], *, when: Guard
) -> bool:
    """Create the case's row with `values`, or set them on it when `when(table, excluded)` holds (`excluded`: the
    values offered; `when` a module-level function); whether the row was written. One statement, so concurrent
    consumers cannot interleave."""
    row = {"tracking_id": tracking_id, "case_version": 0, "clocks_version": 0, **values, "updated_at": now}
    stmt = upsert(dialect_of(session), _CASES, "tracking_id", tuple(row), (*values, "updated_at"), when)
    result = await session.execute(stmt, upsert_params(row))
    return bool(rows_affected(result))


async def upsert_case_if_newer(
    session: AsyncSession, tracking_id: str, now: datetime, values: dict[str, Any], *, version: str
) -> bool:
    """Create the case's row with `values`, or set them on it when their `version` (case_version or clocks_version) is
    newer than the stored one; whether the row was written."""
    row = {"tracking_id": tracking_id, **values, "updated_at": now}
    return await write_if_newer(session, _CASES, row, key="tracking_id", version=version)


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
