"""Issuing and revoking keys. The hub's own key table is written directly; auth.* events replicate it elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.keys.schemas import IssuedKeyOut, KeyOut
from routing_svc.models import KIT
from routing_svc.timeutil import as_utc, as_utc_or_none
from shared import audit
from shared.auth.keys import KeyStore
from shared.domain import Role
from shared.errors import ApiError
from shared.events.contracts import KeyRevoked
from shared.logging import get_logger
from shared.outbox import Outbox

log = get_logger(__name__)


def _future(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    aware = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    if aware <= now:
        raise ApiError(422, "invalid_expiry", "expires_at must lie in the future")
    return aware.astimezone(UTC)


async def issue_key(
    session: AsyncSession,
    keystore: KeyStore,
    outbox: Outbox,
    *,
    role: Role,
    agency_code: str | None,
    label: str | None,
    expires_at: datetime | None,
    now: datetime,
    actor: str,
) -> IssuedKeyOut:
    """Mint a key, store its hash here, and publish auth.key_issued, all in the caller's transaction."""
    issued = keystore.new_key(role, agency_code=agency_code, expires_at=_future(expires_at, now))
    event = issued.event
    await keystore.apply_issued(session, event, label)
    await outbox.add(session, event)
    await _audit(
        session,
        actor,
        "key.issue",
        event.key_id,
        now,
        role=role.value,
        agency_code=agency_code,
        prefix=event.prefix,
        expires_at=event.expires_at.isoformat() if event.expires_at else None,
    )
    log.info("key_issued", key_id=event.key_id, role=role.value, agency_code=agency_code)
    return IssuedKeyOut(
        key=issued.key,
        key_id=event.key_id,
        prefix=event.prefix,
        role=role,
        agency_code=agency_code,
        label=label,
        expires_at=event.expires_at,
    )


def _key_out(row: Any) -> KeyOut:
    return KeyOut(
        key_id=row.id,
        prefix=row.prefix,
        role=Role(row.role),
        agency_code=row.agency_code,
        label=row.label,
        created_at=as_utc(row.created_at),
        expires_at=as_utc_or_none(row.expires_at),
        revoked_at=as_utc_or_none(row.revoked_at),
        is_active=row.is_active,
    )


async def list_keys(
    session: AsyncSession, *, agency_code: str | None, role: Role | None, limit: int, offset: int
) -> list[KeyOut]:
    t = KIT.api_keys
    stmt = select(t).order_by(t.c.created_at, t.c.id).limit(limit + 1).offset(offset)
    if agency_code is not None:
        stmt = stmt.where(t.c.agency_code == agency_code)
    if role is not None:
        stmt = stmt.where(t.c.role == role.value)
    return [_key_out(r) for r in (await session.execute(stmt)).all()]


async def revoke_key(
    session: AsyncSession, keystore: KeyStore, outbox: Outbox, key_id: str, now: datetime, *, actor: str
) -> bool:
    """Revoke a key and publish auth.key_revoked; False if no such key. Revoking twice changes nothing."""
    t = KIT.api_keys
    row = (await session.execute(select(t.c.id, t.c.revoked_at).where(t.c.id == key_id))).first()
    if row is None:
        return False
    if row.revoked_at is not None:
        return True
    event = KeyRevoked(key_id=key_id, revoked_at=now)
    await keystore.apply_revoked(session, event)
    await outbox.add(session, event)
    await _audit(session, actor, "key.revoke", key_id, now)
    log.info("key_revoked", key_id=key_id)
    return True


async def _audit(session: AsyncSession, actor: str, action: str, key_id: str, now: datetime, **details: object) -> None:
    await audit.record(
        session,
        KIT,
        actor=actor,
        action=action,
        target_type=audit.Target.key,
        target_id=key_id,
        at=now,
        details=details,
    )
