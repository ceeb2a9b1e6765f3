"""The key store. routing_svc issues keys; other services keep a replica fed by auth.* events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import utcnow
from shared.crypto import hash_secret, key_prefix, new_api_key, secrets_equal
from shared.db.dialect import dialect_of, insert_ignore
from shared.domain import Role
from shared.events.contracts import KeyIssued, KeyRevoked

MIN_BOOTSTRAP_KEY_LENGTH = 32
"""A bootstrap admin key shorter than this is refused at startup: it could be guessed."""
BOOTSTRAP_KEY_ID = "bootstrap"
"""How the bootstrap key is named: its principal's key_id, and in `DELETE /api/v1/hub/api-keys/bootstrap`."""
_BOOTSTRAP_ROW = uuid.UUID("5a1c0de5-0000-4000-8000-b0075a1c0de5")


def check_bootstrap_key(key: str) -> None:
    """Raises ValueError, saying why, for a bootstrap admin key too short to be safe."""
    if len(key) < MIN_BOOTSTRAP_KEY_LENGTH:
        raise ValueError(
            f"the bootstrap admin key has {len(key)} characters; it needs at least {MIN_BOOTSTRAP_KEY_LENGTH}. "
            "Make one with: python -c 'from shared.crypto import new_api_key; print(new_api_key(\"admin\"))'"
        )


def bootstrap_row_id(key_hash: str) -> str:
    """The id under which a revoked bootstrap key is kept in the key table: one per bootstrap key."""
    return str(uuid.uuid5(_BOOTSTRAP_ROW, key_hash))


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    agency_code: str | None = None

    @property
    def actor(self) -> str:
        if self.role is Role.agency:
            return f"agency:{self.agency_code}"
        return f"{self.role.value}:{self.key_id[:8]}"


@dataclass(frozen=True)
class IssuedKey:
    key: str
    event: KeyIssued


class KeyStore:
    def __init__(
        self, table: Table, bootstrap_admin_key: str | None = None, bootstrap_admin_key_hash: str | None = None
    ):
        self.table = table
        if bootstrap_admin_key:
            check_bootstrap_key(bootstrap_admin_key)
        self.bootstrap_hash = hash_secret(bootstrap_admin_key) if bootstrap_admin_key else bootstrap_admin_key_hash

    async def authenticate(self, session: AsyncSession, key: str) -> Principal | None:
        """The key's holder; None for a key that is unknown, revoked or expired.

        The table is asked first: once revoked, the bootstrap key has a row there that says so.
        """
        presented = hash_secret(key)
        t = self.table
        row = (
            await session.execute(
                select(t.c.id, t.c.key_hash, t.c.role, t.c.agency_code, t.c.expires_at, t.c.revoked_at).where(
                    t.c.key_hash == presented
                )
            )
        ).first()
        if row is None or not secrets_equal(row.key_hash, presented):
            if self.bootstrap_hash and secrets_equal(presented, self.bootstrap_hash):
                return Principal(key_id=BOOTSTRAP_KEY_ID, role=Role.admin)
            return None
        now = utcnow()
        if row.revoked_at is not None and row.revoked_at <= now:  # a rotation may revoke in the future
            return None
        if row.expires_at is not None and row.expires_at <= now:
            return None
        return Principal(key_id=row.id, role=Role(row.role), agency_code=row.agency_code)

    async def is_known(self, session: AsyncSession, key: str) -> bool:
        """Whether the key was ever issued (it may be revoked or expired since): presenting it is no guess."""
        t = self.table
        found = await session.execute(select(t.c.id).where(t.c.key_hash == hash_secret(key)))
        return found.first() is not None

    def bootstrap_issued(self) -> KeyIssued | None:
        """The bootstrap key as an issued key, so that it can be revoked like one; None when there is none."""
        if not self.bootstrap_hash:
            return None
        return KeyIssued(
            key_id=bootstrap_row_id(self.bootstrap_hash),
            key_hash=self.bootstrap_hash,
            prefix=BOOTSTRAP_KEY_ID,
            role=Role.admin,
            agency_code=None,
            expires_at=None,
            issued_at=utcnow(),
        )

    def new_key(self, role: Role, agency_code: str | None = None, expires_at: datetime | None = None) -> IssuedKey:
        key = new_api_key(role.value)
        event = KeyIssued(
            key_id=str(uuid.uuid4()),
            key_hash=hash_secret(key),
            prefix=key_prefix(key),
            role=role,
            agency_code=agency_code,
            expires_at=expires_at,
            issued_at=utcnow(),
        )
        return IssuedKey(key=key, event=event)

    async def apply_issued(self, session: AsyncSession, event: KeyIssued, label: str | None = None) -> None:
        stmt = insert_ignore(dialect_of(session), self.table).values(
            id=event.key_id,
            key_hash=event.key_hash,
            prefix=event.prefix,
            role=event.role.value,
            agency_code=event.agency_code,
            label=label,
            created_at=event.issued_at,
            expires_at=event.expires_at,
            is_active=True,
        )
        await session.execute(stmt)

    async def apply_revoked(self, session: AsyncSession, event: KeyRevoked) -> None:
        t = self.table
        await session.execute(
            update(t).where(t.c.id == event.key_id).values(revoked_at=event.revoked_at, is_active=False)
        )
