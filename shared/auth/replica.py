"""A service's replica of the hub's API keys, kept from auth.key_issued / auth.key_revoked events."""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.keys import KeyStore
from shared.bus.consumer import Handler, RetryLater
from shared.events import Envelope, EventData
from shared.events.contracts import KeyIssued, KeyRevoked
from shared.logging import get_logger

log = get_logger(__name__)

SUBJECTS = ["simpul.auth.>"]


def key_replica_handlers(table: Table, retry_delay: float = 2.0) -> dict[str, Handler]:
    """Handlers that apply issued and revoked keys to `table` (the kit's api_keys)."""
    store = KeyStore(table)

    async def on_issued(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, KeyIssued):
            await store.apply_issued(session, data)
            log.info("key_replicated", key_id=data.key_id, role=data.role.value, agency_code=data.agency_code)

    async def on_revoked(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, KeyRevoked):
            return
        if (await session.execute(select(table.c.id).where(table.c.id == data.key_id))).first() is None:
            # Applied before its issue, the revocation would be lost and the key later made valid: wait for it.
            raise RetryLater("the key's issue has not arrived yet", delay=retry_delay)
        await store.apply_revoked(session, data)
        log.info("key_revoked", key_id=data.key_id)

    return {KeyIssued.event_type: on_issued, KeyRevoked.event_type: on_revoked}
