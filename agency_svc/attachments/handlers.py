"""The reporters' files as their events describe them (and their webhook deliveries), and every file of a case removed
when it is archived."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.context import AgencyContext
from agency_svc.models import ATTACHMENTS
from shared.bus.handlers import Handlers
from shared.domain import ScanStatus, Status
from shared.events import Envelope
from shared.events.contracts import AttachmentAdded, ComplaintStatusChanged
from shared.files import records
from shared.files.retention import remove_case_files

handlers = Handlers[AgencyContext]()


@handlers.on(AttachmentAdded)
async def on_attachment_added(
    session: AsyncSession, envelope: Envelope, data: AttachmentAdded, ctx: AgencyContext
) -> None:
    await records.record(session, ATTACHMENTS, data)
    if data.attachment.scan_status is not ScanStatus.infected:
        await ctx.fanout.case_event(session, envelope, data)


@handlers.on(ComplaintStatusChanged)
async def on_archived(
    session: AsyncSession, envelope: Envelope, data: ComplaintStatusChanged, ctx: AgencyContext
) -> None:
    if data.status is Status.archived:
        await remove_case_files(session, ATTACHMENTS, data.tracking_id, ctx.clock.now(), ctx.uploads.own)
