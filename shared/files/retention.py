"""A case past its retention (archived) keeps no files: its owner deletes the objects, and every service that shows
the case marks them removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.files import records
from shared.files.store import FileStore
from shared.logging import get_logger

log = get_logger(__name__)


async def remove_case_files(
    session: AsyncSession, table: Table, tracking_id: str, now: datetime, own: FileStore | None = None
) -> int:
    """Marks the case's files removed and deletes the objects of those in `own`'s bucket; how many it marked.
    Run again (a redelivery after a failed commit), it deletes what is left and marks nothing twice."""
    pending = select(table.c.object_name).where(table.c.tracking_id == tracking_id, table.c.removed_at.is_(None))
    if own is not None:
        for name in (await session.scalars(pending.where(table.c.bucket == own.bucket.name))).all():
            await own.delete(str(name))
    removed = await records.remove_case(session, table, tracking_id, now)
    if removed:
        log.info("case_files_removed", count=len(removed))
    return len(removed)
