"""Where a notification goes: the reporter's contact (opened at send time) or an officer's registered address, the
channel, the language and the timezone, and whether quiet hours apply. Nothing here is ever logged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases.repository import timezone_of
from notify_svc.contacts.service import OpenedContact, normalize_language, open_contact
from notify_svc.models import Notification, NotifyChannel, Recipient, RecipientKind
from notify_svc.sending.mail import valid_address
from notify_svc.sending.sms import e164
from shared.crypto import Sealer


@dataclass(frozen=True)
class Address:
    channel: NotifyChannel
    to: str
    language: str
    timezone: str
    person: bool
    """Quiet hours hold back messages to people, not to a system's mailbox."""
    name: str | None
    """How the message greets them: None for an anonymous reporter (and an officer registered without a name)."""
    secrets: tuple[str, ...]
    """What must never appear in an error message or a log line."""

    def __repr__(self) -> str:
        return f"Address(channel={self.channel.value!r}, timezone={self.timezone!r}, <recipient hidden>)"


@dataclass(frozen=True)
class Unreachable:
    reason: str
    wait: bool = False
    """The reporter's contact has not arrived yet: look again later (until contact_wait_seconds)."""


async def resolve(
    session: AsyncSession, sealer: Sealer, n: Notification, default_timezone: str
) -> Address | Unreachable:
    if n.recipient_kind == RecipientKind.reporter.value:
        if not n.tracking_id:
            return Unreachable("no_contact")
        contact = await open_contact(session, sealer, n.tracking_id)
        if contact is None:
            return Unreachable("no_contact", wait=True)
        timezone = await timezone_of(session, n.tracking_id) or default_timezone
        return reporter_address(contact, timezone)
    recipient = await session.get(Recipient, n.recipient_id) if n.recipient_id else None
    if recipient is None:
        return Unreachable("no_recipient")
    if not valid_address(recipient.email):
        return Unreachable("invalid_email")
    return Address(
        channel=NotifyChannel.email,
        to=recipient.email,
        language=normalize_language(recipient.language),
        timezone=recipient.timezone,
        person=not recipient.is_system,
        name=recipient.name,
        secrets=(recipient.email,),
    )


def reporter_address(contact: OpenedContact, timezone: str) -> Address | Unreachable:
    """Email when the reporter left a usable address, else SMS when they left a usable phone number."""
    phone = e164(contact.phone) if contact.phone else None
    secrets = tuple(contact.secrets()) + ((phone,) if phone else ())
    name = None if contact.is_anonymous else contact.name

    def by(channel: NotifyChannel, to: str) -> Address:
        return Address(channel, to, contact.language, timezone, person=True, name=name, secrets=secrets)

    if contact.email and valid_address(contact.email):
        return by(NotifyChannel.email, contact.email)
    if phone:
        return by(NotifyChannel.sms, phone)
    if contact.email:
        return Unreachable("invalid_email")
    if contact.phone:
        return Unreachable("invalid_phone")
    return Unreachable("no_address")
