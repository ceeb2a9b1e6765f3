"""A service's replica of the hub's API keys, kept from auth.key_issued / auth.key_revoked events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.keys import KeyStore
from shared.bus.consumer import RetryLater
from shared.bus.handlers import Handlers
from shared.events import Envelope
from shared.events.contracts import KeyIssued, KeyRevoked
from shared.logging import get_logger

log = get_logger(__name__)


def key_replica_handlers(table: Table, retry_delay: float = 2.0) -> Handlers[Any]:
    """Handlers that apply issued and revoked keys to `table` (the kit's api_keys); they need no context."""
    store = KeyStore(table)
    handlers = Handlers[Any]()

    @handlers.on(KeyIssued)
    async def on_issued(session: AsyncSession, envelope: Envelope, event: KeyIssued, ctx: object) -> None:
        await store.apply_issued(session, event)
        log.info("key_replicated", key_id=event.key_id, role=event.role.value, agency_code=event.agency_code)

    @handlers.on(KeyRevoked)
    async def on_revoked(session: AsyncSession, envelope: Envelope, event: KeyRevoked, ctx: object) -> None:
        if (await session.execute(select(table.c.id).where(table.c.id == event.key_id))).first() is None:
            # Applied before its issue, the revocation would be lost and the key later made valid: wait for it.
            raise RetryLater("the key's issue has not arrived yet", delay=retry_delay)
        await store.apply_revoked(session, event)
        log.info("key_revoked", key_id=event.key_id)

    return handlers
