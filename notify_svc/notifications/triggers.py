"""What each event becomes: the notifications it makes, for whom, and what their templates are given. Never commits.

To the reporter (when they left an email or a phone): the confirmation of the submission (contact.registered, the
only message that carries the receipt), every status change (postponed is the request for more information;
answered, completed), every follow-up, and the reminder before the reporter-response clock runs out (its 80%
sla.warning). To officers and coordinators: escalation notices (complaint.escalated); the digest is made by
notify_svc.digest.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases import repository as cases
from notify_svc.models import Contact, NotifyChannel, RecipientKind
from notify_svc.notifications.service import enqueue
from notify_svc.recipients import repository as recipients
from shared.crypto import Sealer
from shared.domain import ClockKind, EscalationTarget, Status
from shared.events import Envelope
from shared.events.contracts import (
    ComplaintEscalated,
    ComplaintStatusChanged,
    ContactDetails,
    ContactRegistered,
    FollowupPosted,
    SlaWarning,
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


async def for_reporter(
    session: AsyncSession,
    envelope: Envelope,
    *,
    template: str,
    tracking_id: str,
    context: dict[str, Any],
    now: datetime,
    context_sealed: str | None = None,
) -> bool:
    """The reporter's notification; skipped at once when their contact is known and holds no email and no phone.

    A contact not known yet is waited for (the private event may lag): the sender settles the channel.
    """
    contact = await session.get(Contact, tracking_id)
    channel = reporter_channel(contact) if contact is not None else NotifyChannel.email
    return await enqueue(
        session,
        event_id=str(envelope.id),
        event_type=envelope.type,
        template=template,
        tracking_id=tracking_id,
        context=context,
        now=now,
        channel=channel or NotifyChannel.email,
        context_sealed=context_sealed,
        skip_reason="no_address" if contact is not None and channel is None else None,
    )


async def on_contact_registered(
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
    await for_reporter(
        session,
        envelope,
        template=CONFIRMATION,
        tracking_id=data.tracking_id,
        context=context,
        now=now,
        context_sealed=sealed,
    )


async def on_status_changed(
    session: AsyncSession, envelope: Envelope, data: ComplaintStatusChanged, now: datetime
) -> None:
    context = {
        "tracking_id": data.tracking_id,
        "status": data.status.value,
        "previous_status": data.previous_status.value if data.previous_status else None,
        "reason_code": data.reason_code,
        "reason": data.reason,
        "case_version": data.case_version,
        "changed_at": data.changed_at.isoformat(),
    }
    await for_reporter(
        session, envelope, template=STATUS_CHANGED, tracking_id=data.tracking_id, context=context, now=now
    )


async def on_followup_posted(session: AsyncSession, envelope: Envelope, data: FollowupPosted, now: datetime) -> None:
    context = {
        "tracking_id": data.tracking_id,
        "followup_id": data.followup_id,
        "agency_code": data.agency_code,
        "agency_name": data.agency_name or data.agency_code,
        "content": data.content,
        "is_final": data.is_final,
        "posted_at": data.posted_at.isoformat(),
    }
    await for_reporter(
        session, envelope, template=FOLLOWUP_POSTED, tracking_id=data.tracking_id, context=context, now=now
    )


async def on_sla_warning(session: AsyncSession, envelope: Envelope, data: SlaWarning, now: datetime) -> None:
    """The reporter-response clock at 80%: remind the reporter before the case completes (or, postponed, lapses)."""
    if data.clock is not ClockKind.reporter_response:
        return
    status = await cases.status_of(session, data.tracking_id)
    if status not in (Status.answered.value, Status.postponed.value):
        # Status not known here yet: routing starts the node's clock when answered, the hub's when postponed.
        status = Status.answered.value if data.agency_code else Status.postponed.value
    context = {"tracking_id": data.tracking_id, "awaiting": status, "due_at": data.due_at.isoformat()}
    await for_reporter(session, envelope, template=REMINDER, tracking_id=data.tracking_id, context=context, now=now)


async def on_escalated(session: AsyncSession, envelope: Envelope, data: ComplaintEscalated, now: datetime) -> None:
    """The liaison officers of the node told (`target_agency_code`) and the coordinators registered for the level."""
    liaisons = (
        await recipients.in_scope(session, recipients.node_scope(data.target_agency_code))
        if data.target_agency_code
        else []
    )
    told = {r.email for r in liaisons}
    coordinators = [
        r for r in await recipients.in_scope(session, recipients.level_scope(data.level)) if r.email not in told
    ]
    context = {
        "tracking_id": data.tracking_id,
        "clock": data.clock.value,
        "level": data.level,
        "target": data.target.value,
        "agency_code": data.agency_code,
        "target_agency_code": data.target_agency_code,
        "due_at": data.due_at.isoformat(),
        "escalated_at": data.escalated_at.isoformat(),
    }
    common: dict[str, Any] = {
        "event_id": str(envelope.id),
        "event_type": envelope.type,
        "template": ESCALATION,
        "tracking_id": data.tracking_id,
        "context": context,
        "now": now,
    }
    for kind, group in ((RecipientKind.liaison, liaisons), (RecipientKind.coordinator, coordinators)):
        for r in group:
            await enqueue(session, recipient_kind=kind, recipient_id=r.id, **common)
    if not liaisons and not coordinators:
        kind = (
            RecipientKind.liaison
            if data.target in (EscalationTarget.liaison, EscalationTarget.parent)
            else RecipientKind.coordinator
        )
        await enqueue(session, recipient_kind=kind, skip_reason="no_recipients", **common)
        log.warning("escalation_unaddressed", level=data.level, target_agency_code=data.target_agency_code)
