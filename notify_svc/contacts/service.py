"""Storing a reporter's contact (sealed) and opening it at send time. Never logs a name, email or phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Contact
from notify_svc.notifications.repository import wake_awaiting_contact
from shared.crypto import Sealer
from shared.events.contracts import ContactDetails, ContactRegistered
from shared.logging import get_logger

log = get_logger(__name__)

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


def normalize_language(value: str | None) -> str:
    """`en`, `en-US`, `EN` -> `en`; anything not supported -> `id`."""
    code = (value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class OpenedContact:
    """A contact opened for delivery. Lives in memory only; never logged (repr hides the details)."""

    tracking_id: str
    name: str | None
    email: str | None
    phone: str | None
    language: str
    is_anonymous: bool

    def __repr__(self) -> str:
        return f"OpenedContact(tracking_id={self.tracking_id!r}, language={self.language!r}, <sealed fields hidden>)"

    def secrets(self) -> list[str]:
        """The strings that must never appear in an error message or a log line."""
        return [s for s in (self.name, self.email, self.phone) if s]


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


async def register_contact(
    session: AsyncSession, sealer: Sealer, channel: Sealer, data: ContactRegistered, now: datetime
) -> ContactDetails:
    """Open the details (sealed with the contact ring), store them under notify's own keys (never the receipt), and
    wake the notifications that were waiting for them. The opened details are returned for the confirmation."""
    details = ContactDetails.opened(data.details_sealed, channel)
    contact = await session.get(Contact, data.tracking_id)
    is_new = contact is None
    if contact is None:
        contact = Contact(tracking_id=data.tracking_id, registered_at=now)
        session.add(contact)
    contact.name_sealed = None if data.is_anonymous else sealer.seal_optional(_clean(details.name))
    contact.email_sealed = sealer.seal_optional(_clean(details.email))
    contact.phone_sealed = sealer.seal_optional(_clean(details.phone))
    contact.language = normalize_language(data.language)
    contact.is_anonymous = data.is_anonymous
    await session.flush()
    woken = await wake_awaiting_contact(session, data.tracking_id, now)
    log.info(
        "contact_registered",
        new=is_new,
        has_email=details.email is not None,
        language=contact.language,
        woken=woken,
    )
    return details


async def open_contact(session: AsyncSession, sealer: Sealer, tracking_id: str) -> OpenedContact | None:
    contact = await session.get(Contact, tracking_id)
    return opened(contact, sealer) if contact is not None else None


def opened(contact: Contact, sealer: Sealer) -> OpenedContact:
    """The contact's details, opened."""
    return OpenedContact(
        tracking_id=contact.tracking_id,
        name=sealer.open_optional(contact.name_sealed),
        email=sealer.open_optional(contact.email_sealed),
        phone=sealer.open_optional(contact.phone_sealed),
        language=normalize_language(contact.language),
        is_anonymous=contact.is_anonymous,
    )
