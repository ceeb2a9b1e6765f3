"""Reporters' contacts, from the private stream: stored under notify's own keys, then the confirmation is made."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.contacts.service import register_contact
from notify_svc.context import NotifyContext
from notify_svc.notifications.triggers import confirm_submission
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import ContactRegistered

handlers = Handlers[NotifyContext]()


@handlers.on(ContactRegistered)
async def on_contact_registered(
    session: AsyncSession, envelope: Envelope, data: ContactRegistered, ctx: NotifyContext
) -> None:
    now = ctx.clock.now()
    details = await register_contact(session, ctx.sealer, ctx.contact_ring, data, now)
    await confirm_submission(session, envelope, data, details, ctx.sealer, now)
