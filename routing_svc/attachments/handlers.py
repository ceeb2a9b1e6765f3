"""The files of the cases, from both owners' attachment.added events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases.context import CaseContext
from routing_svc.models import ATTACHMENTS
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import AttachmentAdded
from shared.files import records

handlers = Handlers[CaseContext]()


@handlers.on(AttachmentAdded)
async def on_attachment_added(
    session: AsyncSession, envelope: Envelope, data: AttachmentAdded, ctx: CaseContext
) -> None:
    await records.record(session, ATTACHMENTS, data)
