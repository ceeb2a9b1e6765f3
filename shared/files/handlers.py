"""The handlers every service that shows a case's files runs: the files the owners' events describe, and (for the
owners) every file of a case removed when its retention runs out."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.handlers import Handlers
from shared.domain import Status
from shared.events import Envelope
from shared.events.contracts import AttachmentAdded, ComplaintStatusChanged
from shared.files import records
from shared.files.retention import remove_case_files
from shared.files.store import FileStore

C = TypeVar("C")


def file_handlers(table: Table, own_bucket: Callable[[C], FileStore] | None = None) -> Handlers[C]:
    """Handlers that record attachment.added in `table`; with `own_bucket`, also the archiving of a case, which
    deletes the objects of its files in that bucket and marks them all removed."""
    handlers = Handlers[C]()

    @handlers.on(AttachmentAdded)
    async def on_attachment_added(session: AsyncSession, envelope: Envelope, data: AttachmentAdded, ctx: C) -> None:
        await records.record(session, table, data)

    if own_bucket is not None:
        store_of = own_bucket

        @handlers.on(ComplaintStatusChanged)
        async def on_archived(session: AsyncSession, envelope: Envelope, data: ComplaintStatusChanged, ctx: C) -> None:
            if data.status is Status.archived:
                await remove_case_files(session, table, data.tracking_id, data.changed_at, store_of(ctx))

    return handlers
