"""Issuing and revoking keys. The hub's own key table is written directly; auth.* events replicate it elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.directory.repository import get_node
from routing_svc.keys.schemas import IssuedKeyOut, KeyOut
from routing_svc.models import KIT
from shared import audit
from shared.auth.keys import BOOTSTRAP_KEY_ID
from shared.clock import utc
from shared.domain import Role
from shared.errors import ApiError, not_found
from shared.events.contracts import KeyRevoked
from shared.http.paging import Page
from shared.logging import get_logger
from shared.runtime import Runtime

log = get_logger(__name__)


def _future(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    at = utc(expires_at)
    if at <= now:
        raise ApiError(422, "invalid_expiry", "expires_at must lie in the future")
    return at


@dataclass(frozen=True)
class KeySpec:
    """The key to issue: its role, its node (an agency key's), its label, and when it expires (if ever)."""

    role: Role
    agency_code: str | None = None
    label: str | None = None
    expires_at: datetime | None = None


async def issue_key(
    session: AsyncSession, runtime: Runtime[Any], spec: KeySpec, now: datetime, *, actor: str
) -> IssuedKeyOut:
    """Mint a key, store its hash here, and publish auth.key_issued, all in the caller's transaction."""
    role, agency_code = spec.role, spec.agency_code
    issued = runtime.keystore.new_key(role, agency_code=agency_code, expires_at=_future(spec.expires_at, now))
    event = issued.event
    await runtime.keystore.apply_issued(session, event, spec.label)
    await runtime.outbox.add(session, event)
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
        label=spec.label,
        expires_at=event.expires_at,
    )


def _key_out(row: Any, now: datetime) -> KeyOut:
    revoked_at, expires_at = row.revoked_at, row.expires_at
    return KeyOut(
        key_id=row.id,
        prefix=row.prefix,
        role=Role(row.role),
        agency_code=row.agency_code,
        label=row.label,
        created_at=row.created_at,
        expires_at=expires_at,
        revoked_at=revoked_at,
        is_active=(revoked_at is None or revoked_at > now) and (expires_at is None or expires_at > now),
    )


async def list_keys(
    session: AsyncSession, *, agency_code: str | None, role: Role | None, page: Page, now: datetime
) -> list[KeyOut]:
    t = KIT.api_keys
    stmt = select(t).order_by(t.c.created_at, t.c.id).limit(page.limit + 1).offset(page.offset)
    if agency_code is not None:
        stmt = stmt.where(t.c.agency_code == agency_code)
    if role is not None:
        stmt = stmt.where(t.c.role == role.value)
    return [_key_out(r, now) for r in (await session.execute(stmt)).all()]


async def revoke_key(
    session: AsyncSession,
    runtime: Runtime[Any],
    key_id: str,
    now: datetime,
    *,
    actor: str,
    effective_at: datetime | None = None,
) -> bool:
    """Revoke a key (at `effective_at`, default now) and publish auth.key_revoked; False if no such key.

    A key revoked already (or due to be, sooner) stays so.
    """
    t = KIT.api_keys
    if key_id == BOOTSTRAP_KEY_ID:
        bootstrap = await _bootstrap_row(session, runtime)
        if bootstrap is None:
            return False
        key_id = bootstrap
    row = (await session.execute(select(t.c.id, t.c.revoked_at).where(t.c.id == key_id))).first()
    if row is None:
        return False
    at = effective_at or now
    if row.revoked_at is not None and row.revoked_at <= at:
        return True
    event = KeyRevoked(key_id=key_id, revoked_at=at)
    await runtime.keystore.apply_revoked(session, event)
    await runtime.outbox.add(session, event)
    await _audit(session, actor, "key.revoke", key_id, now, effective_at=at.isoformat())
    log.info("key_revoked", key_id=key_id, effective_at=at.isoformat())
    return True


async def revoke_keys_of_node(
    session: AsyncSession, runtime: Runtime[Any], code: str, now: datetime, *, actor: str
) -> int:
    """Revoke now every agency key of node `code` that still works or would (a rotated one in its grace), each
    published as auth.key_revoked; how many. A deactivated node's keys never come back: reactivation needs new ones."""
    t = KIT.api_keys
    stmt = select(t.c.id).where(
        t.c.agency_code == code,
        t.c.role == Role.agency.value,
        (t.c.revoked_at.is_(None)) | (t.c.revoked_at > now),
        (t.c.expires_at.is_(None)) | (t.c.expires_at > now),
    )
    key_ids = list((await session.execute(stmt)).scalars().all())
    for key_id in key_ids:
        await revoke_key(session, runtime, key_id, now, actor=actor)
    return len(key_ids)


async def _bootstrap_row(session: AsyncSession, runtime: Runtime[Any]) -> str | None:
    """The bootstrap key's row in the key table, issued (and published) on first need; None without a bootstrap key.

    Every service keeps the row from auth.key_issued; the revocation that follows it ends the key everywhere.
    """
    issued = runtime.keystore.bootstrap_issued()
    if issued is None:
        return None
    t = KIT.api_keys
    if (await session.execute(select(t.c.id).where(t.c.id == issued.key_id))).first() is None:
        await runtime.keystore.apply_issued(session, issued, label="bootstrap admin key")
        await runtime.outbox.add(session, issued)
    return issued.key_id


async def rotate_key(
    session: AsyncSession, runtime: Runtime[Any], key_id: str, grace: timedelta, now: datetime, *, actor: str
) -> IssuedKeyOut:
    """Issue a key like `key_id` (same role, node, label and expiry) and revoke the old one after `grace`."""
    t = KIT.api_keys
    row = (await session.execute(select(t).where(t.c.id == key_id))).first()
    if row is None:
        raise not_found("API key")
    revoked_at, expires_at = row.revoked_at, row.expires_at
    if (revoked_at is not None and revoked_at <= now) or (expires_at is not None and expires_at <= now):
        raise ApiError(409, "key_inactive", "a revoked or expired key cannot be rotated; issue a new one")
    if row.agency_code is not None:
        node = await get_node(session, row.agency_code, for_update=True)
        if node is None or not node.is_active:
            raise ApiError(409, "agency_inactive", f"node {row.agency_code!r} is inactive; its keys cannot be rotated")
    like = KeySpec(Role(row.role), row.agency_code, row.label, expires_at)
    issued = await issue_key(session, runtime, like, now, actor=actor)
    await revoke_key(session, runtime, key_id, now, actor=actor, effective_at=now + grace)
    return issued


async def _audit(session: AsyncSession, actor: str, action: str, key_id: str, now: datetime, **details: object) -> None:
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=actor, action=action, target_type=audit.Target.key, target_id=key_id, at=now, details=details
        ),
    )
