"""The files of the cases, from both owners' attachment.added events, and the follow-ups that give them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases.context import CaseContext
from routing_svc.models import ATTACHMENTS
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import FollowupPosted
from shared.files import records
from shared.files.handlers import file_handlers

follow_ups = Handlers[CaseContext]()


@follow_ups.on(FollowupPosted)
async def on_followup_posted(session: AsyncSession, envelope: Envelope, data: FollowupPosted, ctx: CaseContext) -> None:
    # The agency's outbox sends a file's attachment.added before the follow-up that names it.
    await records.name_in_followup(session, ATTACHMENTS, data.tracking_id, data.attachment_ids, data.followup_id)


handlers: Handlers[CaseContext] = Handlers.joined(file_handlers(ATTACHMENTS), follow_ups)
