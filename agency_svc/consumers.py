"""agency_svc's consumers: the inbox (dispositions, statuses, reporter replies) and the directory/key replicas."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.directory.service import apply_node_upserted
from agency_svc.inbox.projection import (
    RETRY_DELAY_S,
    apply_dispositioned,
    apply_reporter_replied,
    apply_status_changed,
)
from agency_svc.models import KIT
from shared.auth.keys import KeyStore
from shared.bus.consumer import RetryLater, Subscription
from shared.events import Envelope, EventData
from shared.events.contracts import (
    ComplaintDispositioned,
    ComplaintStatusChanged,
    KeyIssued,
    KeyRevoked,
    NodeUpserted,
    ReporterReplied,
)
from shared.logging import get_logger

log = get_logger(__name__)

# Applying replicated keys needs only the table (no bootstrap key): the same code as runtime.keystore.
_KEYS = KeyStore(KIT.api_keys)


async def on_dispositioned(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if isinstance(data, ComplaintDispositioned):
        await apply_dispositioned(session, data, envelope.occurred_at)


async def on_status_changed(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if isinstance(data, ComplaintStatusChanged):
        await apply_status_changed(session, data)


async def on_reporter_replied(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if isinstance(data, ReporterReplied):
        await apply_reporter_replied(session, data)


async def on_node_upserted(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if isinstance(data, NodeUpserted):
        await apply_node_upserted(session, data, envelope.occurred_at)


async def on_key_issued(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if isinstance(data, KeyIssued):
        await _KEYS.apply_issued(session, data)
        log.info("key_replicated", key_id=data.key_id, role=data.role.value, agency_code=data.agency_code)


async def on_key_revoked(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if not isinstance(data, KeyRevoked):
        return
    t = KIT.api_keys
    if (await session.execute(select(t.c.id).where(t.c.id == data.key_id))).first() is None:
        # Applied before its issue, the revocation would be lost and the key later made valid: wait for it.
        raise RetryLater("the key's issue has not arrived yet", delay=RETRY_DELAY_S)
    await _KEYS.apply_revoked(session, data)
    log.info("key_revoked", key_id=data.key_id)


INBOX = Subscription(
    durable="agency-inbox",
    subjects=["simpul.complaint.dispositioned.>", "simpul.complaint.status_changed", "simpul.reporter.replied"],
    handlers={
        ComplaintDispositioned.event_type: on_dispositioned,
        ComplaintStatusChanged.event_type: on_status_changed,
        ReporterReplied.event_type: on_reporter_replied,
    },
)

DIRECTORY = Subscription(
    durable="agency-directory",
    subjects=["simpul.directory.>", "simpul.auth.>"],
    handlers={
        NodeUpserted.event_type: on_node_upserted,
        KeyIssued.event_type: on_key_issued,
        KeyRevoked.event_type: on_key_revoked,
    },
)
