"""The notifications' templates, and how a reporter's notification and the confirmation are made. Never commits."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Contact, NotifyChannel, RecipientKind
from notify_svc.notifications.service import Addressee, Notice, enqueue
from shared.crypto import Sealer
from shared.events import Envelope
from shared.events.contracts import (
    ContactDetails,
    ContactRegistered,
)
from shared.logging import get_logger

log = get_logger(__name__)

CONFIRMATION = "confirmation"
STATUS_CHANGED = "status_changed"
FOLLOWUP_POSTED = "followup_posted"
REMINDER = "reminder"
ESCALATION = "escalation"
DIGEST = "digest"

REPORTER_TEMPLATES = (CONFIRMATION, STATUS_CHANGED, FOLLOWUP_POSTED, REMINDER)
"""Sent by email or SMS: each has a subject, a body and an SMS text in every language."""
OFFICER_TEMPLATES = (ESCALATION, DIGEST)
"""Sent by email only."""


def reporter_channel(contact: Contact) -> NotifyChannel | None:
    """Email when the reporter left an address, else SMS when they left a phone, else none: one channel per event."""
    if contact.email_sealed:
        return NotifyChannel.email
    if contact.phone_sealed:
        return NotifyChannel.sms
    return None


async def for_reporter(session: AsyncSession, notice: Notice, now: datetime) -> bool:
    """The reporter's notification; skipped at once when their contact is known and holds no email and no phone.

    A contact not known yet is waited for (the private event may lag): the sender settles the channel.
    """
    if notice.tracking_id is None:
        raise ValueError("a notification to a reporter is about a case: it needs the tracking id")
    contact = await session.get(Contact, notice.tracking_id)
    channel = reporter_channel(contact) if contact is not None else NotifyChannel.email
    return await enqueue(
        session,
        notice,
        Addressee(RecipientKind.reporter, channel=channel or NotifyChannel.email),
        now=now,
        skip_reason="no_address" if contact is not None and channel is None else None,
    )


async def confirm_submission(
    session: AsyncSession,
    envelope: Envelope,
    data: ContactRegistered,
    details: ContactDetails,
    sealer: Sealer,
    now: datetime,
) -> None:
    """The confirmation: the tracking id and, sealed until it is sent, the receipt."""
    receipt = details.receipt
    sealed = sealer.seal(json.dumps({"receipt": receipt})) if receipt else None
    context = {
        "tracking_id": data.tracking_id,
        "submitted_at": envelope.occurred_at.isoformat(),
        "has_receipt": receipt is not None,
    }
    notice = Notice.of(
        envelope, template=CONFIRMATION, tracking_id=data.tracking_id, context=context, context_sealed=sealed
    )
    await for_reporter(session, notice, now)
