"""notify_svc's consumers: reporters' contacts (private stream), the events that make messages, and the key replica."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.contacts.service import register_contact
from notify_svc.models import KIT
from notify_svc.notifications.service import enqueue
from shared.auth.keys import KeyStore
from shared.bus import PRIVATE_STREAM
from shared.bus.consumer import Handler, RetryLater, Subscription
from shared.clock import Clock
from shared.crypto import Sealer
from shared.events import Envelope, EventData
from shared.events.contracts import (
    PRIVATE_ROOT,
    ComplaintStatusChanged,
    ContactRegistered,
    FollowupPosted,
    KeyIssued,
    KeyRevoked,
)
from shared.logging import get_logger

log = get_logger(__name__)

STATUS_CHANGED = "status_changed"
FOLLOWUP_POSTED = "followup_posted"


def contacts_subscription(sealer: Sealer, clock: Clock) -> Subscription:
    async def on_contact_registered(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ContactRegistered):
            await register_contact(session, sealer, data, clock.now())

    return Subscription(
        durable="notify-contacts",
        subjects=[f"{PRIVATE_ROOT}.{ContactRegistered.event_type}"],
        handlers={ContactRegistered.event_type: on_contact_registered},
        stream=PRIVATE_STREAM,
    )


def messages_subscription(clock: Clock) -> Subscription:
    async def on_status_changed(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, ComplaintStatusChanged):
            return
        context = {
            "tracking_id": data.tracking_id,
            "status": data.status.value,
            "previous_status": data.previous_status.value if data.previous_status else None,
            "reason_code": data.reason_code,
            "reason": data.reason,
            "case_version": data.case_version,
            "changed_at": data.changed_at.isoformat(),
        }
        await enqueue(
            session, envelope, template=STATUS_CHANGED, tracking_id=data.tracking_id, context=context, now=clock.now()
        )

    async def on_followup_posted(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, FollowupPosted):
            return
        context = {
            "tracking_id": data.tracking_id,
            "followup_id": data.followup_id,
            "agency_code": data.agency_code,
            "agency_name": data.agency_name or data.agency_code,
            "content": data.content,
            "is_final": data.is_final,
            "posted_at": data.posted_at.isoformat(),
        }
        await enqueue(
            session, envelope, template=FOLLOWUP_POSTED, tracking_id=data.tracking_id, context=context, now=clock.now()
        )

    handlers: dict[str, Handler] = {
        ComplaintStatusChanged.event_type: on_status_changed,
        FollowupPosted.event_type: on_followup_posted,
    }
    return Subscription(
        durable="notify-messages",
        subjects=[f"simpul.{ComplaintStatusChanged.event_type}", f"simpul.{FollowupPosted.event_type}"],
        handlers=handlers,
    )


def keys_subscription(keystore: KeyStore) -> Subscription:
    async def on_key_issued(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, KeyIssued):
            await keystore.apply_issued(session, data)
            log.info("key_replicated", key_id=data.key_id, role=data.role.value)

    async def on_key_revoked(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, KeyRevoked):
            return
        t = KIT.api_keys
        if (await session.execute(select(t.c.id).where(t.c.id == data.key_id))).first() is None:
            # Applied before its issue, the revocation would be lost and the key later made valid: wait for it.
            raise RetryLater("the key's issue has not arrived yet", delay=2.0)
        await keystore.apply_revoked(session, data)
        log.info("key_revoked", key_id=data.key_id)

    return Subscription(
        durable="notify-keys",
        subjects=["simpul.auth.>"],
        handlers={KeyIssued.event_type: on_key_issued, KeyRevoked.event_type: on_key_revoked},
    )
