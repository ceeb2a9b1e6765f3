"""notify_svc's consumers: reporters' contacts (private stream), the events that make messages, and the key replica."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.contacts.service import register_contact
from notify_svc.models import KIT
from notify_svc.notifications.service import enqueue
from shared.auth.replica import SUBJECTS as KEY_SUBJECTS
from shared.auth.replica import key_replica_handlers
from shared.bus import PRIVATE_STREAM
from shared.bus.consumer import Handler, Subscription
from shared.clock import Clock
from shared.crypto import Sealer
from shared.events import Envelope, EventData
from shared.events.contracts import (
    PRIVATE_ROOT,
    ComplaintStatusChanged,
    ContactRegistered,
    FollowupPosted,
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


def keys_subscription() -> Subscription:
    return Subscription(
        durable="notify-keys",
        subjects=KEY_SUBJECTS,
        handlers=key_replica_handlers(KIT.api_keys),
    )
