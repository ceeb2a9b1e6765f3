"""The directory's liaison officers, kept from directory.node_upserted: who escalation notices and digests go to."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.context import NotifyContext
from notify_svc.recipients.directory import apply_node_upserted
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import NodeUpserted

handlers = Handlers[NotifyContext]()


@handlers.on(NodeUpserted)
async def on_node_upserted(session: AsyncSession, envelope: Envelope, data: NodeUpserted, ctx: NotifyContext) -> None:
    await apply_node_upserted(session, data, envelope.occurred_at)
