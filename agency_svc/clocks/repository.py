"""Queries on the clocks replica: the newer-only upsert, the running clocks' due times, and the overdue test."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.models import Base, Case, CaseClockDeadline, CaseClocks
from shared.db.newer import write_if_newer

_CLOCKS = Base.metadata.tables[CaseClocks.__tablename__]


async def upsert_if_newer(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the case's clocks, or overwrite them if `clocks_version` is greater; whether the row was written."""
    return await write_if_newer(session, _CLOCKS, values, key="tracking_id", version="clocks_version")


async def replace_deadlines(
    session: AsyncSession, tracking_id: str, deadlines: list[tuple[int, str, datetime]]
) -> None:
    """The case's running clocks become exactly `deadlines` (position, agency_code, due_at)."""
    await session.execute(delete(CaseClockDeadline).where(CaseClockDeadline.tracking_id == tracking_id))
    if deadlines:
        await session.execute(
            insert(CaseClockDeadline),
            [
                {"tracking_id": tracking_id, "position": position, "agency_code": code, "due_at": due_at}
                for position, code, due_at in deadlines
            ],
        )


async def clocks_of(session: AsyncSession, tracking_ids: Iterable[str]) -> dict[str, CaseClocks]:
    ids = list(set(tracking_ids))
    if not ids:
        return {}
    rows = (await session.execute(select(CaseClocks).where(CaseClocks.tracking_id.in_(ids)))).scalars().all()
    return {row.tracking_id: row for row in rows}


def overdue(agency_codes: Select[Any], now: datetime) -> ColumnElement[bool]:
    """The case (in a query on `cases`) has a running, unpaused clock of one of `agency_codes` due by `now`."""
    return exists().where(
        CaseClockDeadline.tracking_id == Case.tracking_id,
        CaseClockDeadline.due_at <= now,
        CaseClockDeadline.agency_code.in_(agency_codes),
    )
