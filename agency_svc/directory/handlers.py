"""The directory replica's handler: each node and its path from the root, as the hub reports them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.context import AgencyContext
from agency_svc.directory.service import apply_node_upserted
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import NodeUpserted

handlers = Handlers[AgencyContext]()


@handlers.on(NodeUpserted)
async def on_node_upserted(session: AsyncSession, envelope: Envelope, data: NodeUpserted, ctx: AgencyContext) -> None:
    await apply_node_upserted(session, data, envelope.occurred_at)
