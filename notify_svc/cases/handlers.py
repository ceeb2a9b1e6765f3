"""The case projection's handlers: each case's status, clocks and timezone, as the hub reports them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases import service
from notify_svc.context import NotifyContext
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import ComplaintStatusChanged, ComplaintSubmitted, SlaClocksChanged

handlers = Handlers[NotifyContext]()


@handlers.on(ComplaintSubmitted)
async def on_submitted(session: AsyncSession, envelope: Envelope, data: ComplaintSubmitted, ctx: NotifyContext) -> None:
    await service.apply_submitted(session, data, ctx.clock.now())


@handlers.on(ComplaintStatusChanged)
async def on_status_changed(
    session: AsyncSession, envelope: Envelope, data: ComplaintStatusChanged, ctx: NotifyContext
) -> None:
    await service.apply_status_changed(session, data, ctx.clock.now())


@handlers.on(SlaClocksChanged)
async def on_clocks_changed(
    session: AsyncSession, envelope: Envelope, data: SlaClocksChanged, ctx: NotifyContext
) -> None:
    await service.apply_clocks_changed(session, data, ctx.clock.now())
