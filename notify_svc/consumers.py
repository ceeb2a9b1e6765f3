"""notify_svc's consumers: reporters' contacts (private stream), the events that make messages and keep the case
projection and the directory's liaison officers, and the key replica."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases import service as cases
from notify_svc.contacts.service import register_contact
from notify_svc.models import KIT
from notify_svc.notifications import triggers
from notify_svc.recipients.directory import apply_node_upserted
from shared.auth.replica import SUBJECTS as KEY_SUBJECTS
from shared.auth.replica import key_replica_handlers
from shared.bus import PRIVATE_STREAM
from shared.bus.consumer import Handler, Subscription
from shared.clock import Clock
from shared.crypto import Sealer
from shared.events import Envelope, EventData
from shared.events.contracts import (
    PRIVATE_ROOT,
    SUBJECT_ROOT,
    ComplaintEscalated,
    ComplaintStatusChanged,
    ComplaintSubmitted,
    ContactRegistered,
    FollowupPosted,
    NodeUpserted,
    SlaClocksChanged,
    SlaWarning,
)


def contacts_subscription(sealer: Sealer, channel: Sealer, clock: Clock) -> Subscription:
    async def on_contact_registered(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ContactRegistered):
            now = clock.now()
            details = await register_contact(session, sealer, channel, data, now)
            await triggers.on_contact_registered(session, envelope, data, details, sealer, now)

    return Subscription(
        durable="notify-contacts",
        subjects=[f"{PRIVATE_ROOT}.{ContactRegistered.event_type}"],
        handlers={ContactRegistered.event_type: on_contact_registered},
        stream=PRIVATE_STREAM,
    )


def messages_subscription(clock: Clock) -> Subscription:
    """One durable (the broker grants notify no other on this stream) for every event that makes a message or feeds
    the case projection or the liaison officers; JetStream keeps them in order, so a status is known before the
    reminder that follows it, and a node's officers before its escalations."""

    async def on_submitted(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ComplaintSubmitted):
            await cases.on_submitted(session, data, clock.now())

    async def on_status_changed(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ComplaintStatusChanged):
            now = clock.now()
            await cases.on_status_changed(session, data, now)
            await triggers.on_status_changed(session, envelope, data, now)

    async def on_followup_posted(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, FollowupPosted):
            await triggers.on_followup_posted(session, envelope, data, clock.now())

    async def on_sla_warning(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, SlaWarning):
            await triggers.on_sla_warning(session, envelope, data, clock.now())

    async def on_clocks_changed(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, SlaClocksChanged):
            await cases.on_clocks_changed(session, data, clock.now())

    async def on_escalated(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ComplaintEscalated):
            await triggers.on_escalated(session, envelope, data, clock.now())

    async def on_node_upserted(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, NodeUpserted):
            await apply_node_upserted(session, data, envelope.occurred_at)

    handlers: dict[str, Handler] = {
        ComplaintSubmitted.event_type: on_submitted,
        ComplaintStatusChanged.event_type: on_status_changed,
        FollowupPosted.event_type: on_followup_posted,
        SlaWarning.event_type: on_sla_warning,
        SlaClocksChanged.event_type: on_clocks_changed,
        ComplaintEscalated.event_type: on_escalated,
        NodeUpserted.event_type: on_node_upserted,
    }
    return Subscription(
        durable="notify-messages",
        subjects=[f"{SUBJECT_ROOT}.{event_type}" for event_type in handlers],
        handlers=handlers,
    )


def keys_subscription() -> Subscription:
    return Subscription(
        durable="notify-keys",
        subjects=KEY_SUBJECTS,
        handlers=key_replica_handlers(KIT.api_keys),
    )
