"""The reporters' files as their events describe them (and their webhook deliveries), and the case's files removed
when it is archived."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.context import AgencyContext
from agency_svc.models import ATTACHMENTS
from shared.bus.handlers import Handlers
from shared.domain import ScanStatus
from shared.events import Envelope
from shared.events.contracts import AttachmentAdded
from shared.files.handlers import file_handlers
from shared.files.store import FileStore


def _own(ctx: AgencyContext) -> FileStore:
    return ctx.uploads.own


webhooks = Handlers[AgencyContext]()


@webhooks.on(AttachmentAdded)
async def on_attachment_added(
    session: AsyncSession, envelope: Envelope, data: AttachmentAdded, ctx: AgencyContext
) -> None:
    if data.attachment.scan_status is not ScanStatus.infected:
        await ctx.fanout.case_event(session, envelope, data)


handlers: Handlers[AgencyContext] = Handlers.joined(file_handlers(ATTACHMENTS, _own), webhooks)
