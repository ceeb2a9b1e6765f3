"""The liaison officers, from routing's directory: each directory.node_upserted makes a node's officers here exactly
those the event names (with an email notify can write to), in the node's timezone. Never commits.

An officer keeps the same id for as long as the node lists their address, so what is queued for them survives an
unrelated change to the node; one taken off the list loses what was still queued (`no_recipient`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Base, DirectoryNode, Recipient, RecipientKind
from notify_svc.recipients import repository
from shared.db.newer import write_if_newer
from shared.events.contracts import LiaisonContact, NodeUpserted
from shared.http.inputs import is_email_address
from shared.logging import get_logger

log = get_logger(__name__)

_NAMESPACE = uuid.UUID("0b7c3f1e-5a47-4d0e-9a51-6b8f2d4c9e10")
_NODES = Base.metadata.tables[DirectoryNode.__tablename__]


def liaison_id(node_code: str, email: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{repository.node_scope(node_code)}:{email}"))


def _usable(officers: list[LiaisonContact]) -> dict[str, LiaisonContact]:
    """By normalized address, the first of each; an address notify could not write to is left out."""
    found: dict[str, LiaisonContact] = {}
    for officer in officers:
        email = officer.email.strip().lower()
        if is_email_address(email):
            found.setdefault(email, officer)
    return found


async def apply_node_upserted(session: AsyncSession, data: NodeUpserted, occurred_at: datetime) -> None:
    """Make the node's liaison officers the event's; an event older than the one applied changes nothing."""
    node = {"code": data.code, "timezone": data.timezone, "updated_at": occurred_at}
    if not await write_if_newer(session, _NODES, node, key="code", version="updated_at", same_applies=True):
        log.info("stale_node_event_ignored", code=data.code)
        return
    wanted = _usable(data.liaison_officers)
    scope = repository.node_scope(data.code)
    for r in await repository.in_scope(session, scope):
        officer = wanted.pop(r.email, None)
        if officer is None:
            await session.delete(r)
            continue
        r.name, r.timezone, r.language = officer.name, data.timezone, _language(officer.language)
    for email, officer in wanted.items():
        session.add(
            Recipient(
                id=liaison_id(data.code, email),
                role=RecipientKind.liaison.value,
                node_code=data.code,
                level=None,
                scope=scope,
                name=officer.name,
                email=email,
                timezone=data.timezone,
                language=_language(officer.language),
                is_system=False,
                created_at=occurred_at,
            )
        )
    log.info("liaison_officers_applied", code=data.code, officers=len(data.liaison_officers))


def _language(value: str) -> str:
    return value if value in ("id", "en") else "id"
