"""Where a notification goes: the reporter's contact (opened at send time) or an officer's registered address, the
channel, the language and the timezone, and whether quiet hours apply. Nothing here is ever logged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.contacts.service import OpenedContact, normalize_language, opened
from notify_svc.models import CaseState, Contact, Notification, NotifyChannel, Recipient, RecipientKind
from shared.crypto import Sealer
from shared.http.inputs import is_email_address
from shared.phones import e164, may_text


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
    takes_replies: bool = False
    """A reply to the message may reach the case (a reporter who is not anonymous: intake takes no message by sender
    for an anonymous case, whose reporter answers with the receipt instead)."""

    def __repr__(self) -> str:
        return f"Address(channel={self.channel.value!r}, timezone={self.timezone!r}, <recipient hidden>)"


@dataclass(frozen=True)
class Unreachable:
    reason: str
    wait: bool = False
    """The reporter's contact has not arrived yet: look again later (until contact_wait_seconds)."""


@dataclass(frozen=True)
class Lookup:
    """What a batch of notifications needs to find their recipients, read in one go: contacts still sealed."""

    contacts: dict[str, Contact] = field(default_factory=dict)
    timezones: dict[str, str | None] = field(default_factory=dict)
    recipients: dict[str, Recipient] = field(default_factory=dict)


async def lookup(session: AsyncSession, notifications: Sequence[Notification]) -> Lookup:
    """The reporters' contacts and their cases' timezones, and the officers' records, of these notifications."""
    reporters = {
        n.tracking_id for n in notifications if n.recipient_kind == RecipientKind.reporter.value and n.tracking_id
    }
    officers = {n.recipient_id for n in notifications if n.recipient_kind != RecipientKind.reporter.value}
    officers.discard("")
    found = Lookup()
    if reporters:
        for contact in (await session.execute(select(Contact).where(Contact.tracking_id.in_(reporters)))).scalars():
            found.contacts[contact.tracking_id] = contact
        cases = select(CaseState.tracking_id, CaseState.timezone).where(CaseState.tracking_id.in_(reporters))
        found.timezones.update((row.tracking_id, row.timezone) for row in await session.execute(cases))
    if officers:
        for recipient in (await session.execute(select(Recipient).where(Recipient.id.in_(officers)))).scalars():
            found.recipients[recipient.id] = recipient
    return found


def resolve(
    found: Lookup, sealer: Sealer, n: Notification, default_timezone: str, countries: tuple[str, ...]
) -> Address | Unreachable:
    """Where `n` goes, from what `lookup` read; opening a reporter's contact may fail (a retired key, say)."""
    if n.recipient_kind == RecipientKind.reporter.value:
        if not n.tracking_id:
            return Unreachable("no_contact")
        contact = found.contacts.get(n.tracking_id)
        if contact is None:
            return Unreachable("no_contact", wait=True)
        timezone = found.timezones.get(n.tracking_id) or default_timezone
        return reporter_address(opened(contact, sealer), timezone, countries)
    recipient = found.recipients.get(n.recipient_id) if n.recipient_id else None
    if recipient is None:
        return Unreachable("no_recipient")
    if not is_email_address(recipient.email):
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


def reporter_address(contact: OpenedContact, timezone: str, countries: tuple[str, ...]) -> Address | Unreachable:
    """Email when the reporter left a usable address, else SMS when they left a usable phone number: an Indonesian
    mobile, or a number of one of `countries` (intake accepts no other; this holds whatever reached notify)."""
    phone = e164(contact.phone) if contact.phone else None
    if phone and not may_text(phone, countries):
        phone = None
    secrets = tuple(contact.secrets()) + ((phone,) if phone else ())
    name = None if contact.is_anonymous else contact.name

    def by(channel: NotifyChannel, to: str) -> Address:
        return Address(
            channel,
            to,
            contact.language,
            timezone,
            person=True,
            name=name,
            secrets=secrets,
            takes_replies=not contact.is_anonymous,
        )

    if contact.email and is_email_address(contact.email):
        return by(NotifyChannel.email, contact.email)
    if phone:
        return by(NotifyChannel.sms, phone)
    if contact.email:
        return Unreachable("invalid_email")
    if contact.phone:
        return Unreachable("invalid_phone")
    return Unreachable("no_address")
