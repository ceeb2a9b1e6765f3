"""The inbox's handlers (`agency-inbox`): dispositions, status changes and reporter replies; each one that changes
the inbox also makes its webhook deliveries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.context import AgencyContext
from agency_svc.inbox.projection import apply_dispositioned, apply_reporter_replied, apply_status_changed
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import ComplaintDispositioned, ComplaintStatusChanged, ReporterReplied

handlers = Handlers[AgencyContext]()


@handlers.on(ComplaintDispositioned)
async def on_dispositioned(
    session: AsyncSession, envelope: Envelope, data: ComplaintDispositioned, ctx: AgencyContext
) -> None:
    if await apply_dispositioned(session, data, envelope.occurred_at, ctx.names):
        await ctx.fanout.case_event(session, envelope, data)


@handlers.on(ComplaintStatusChanged)
async def on_status_changed(
    session: AsyncSession, envelope: Envelope, data: ComplaintStatusChanged, ctx: AgencyContext
) -> None:
    if await apply_status_changed(session, data):
        await ctx.fanout.case_event(session, envelope, data)


@handlers.on(ReporterReplied)
async def on_reporter_replied(
    session: AsyncSession, envelope: Envelope, data: ReporterReplied, ctx: AgencyContext
) -> None:
    if await apply_reporter_replied(session, data):
        await ctx.fanout.case_event(session, envelope, data)
