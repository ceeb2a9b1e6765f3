"""The clocks view's handler: each case's SLA clocks as the hub reports them (newest clocks_version wins)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.clocks.service import apply_clocks_changed
from agency_svc.context import AgencyContext
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import SlaClocksChanged

handlers = Handlers[AgencyContext]()


@handlers.on(SlaClocksChanged)
async def on_clocks_changed(
    session: AsyncSession, envelope: Envelope, data: SlaClocksChanged, ctx: AgencyContext
) -> None:
    await apply_clocks_changed(session, data)
