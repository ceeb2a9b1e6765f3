"""Keeping the directory replica, and deciding what an agency key may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.directory.repository import get_node
from agency_svc.models import Base, Node
from shared.auth.keys import Principal
from shared.db.newer import write_if_newer
from shared.domain import Role
from shared.events.contracts import NodeUpserted
from shared.logging import get_logger

log = get_logger(__name__)

_NODES = Base.metadata.tables[Node.__tablename__]


def materialized_path(data: NodeUpserted) -> str:
    """ "/ROOT/.../CODE/" from the event's path, whether or not that path already ends with the node itself."""
    parts = [p for p in data.path if p]
    if not parts or parts[-1] != data.code:
        parts.append(data.code)
    return "/" + "/".join(parts) + "/"


async def apply_node_upserted(session: AsyncSession, data: NodeUpserted, occurred_at: datetime) -> None:
    """Insert or overwrite the node; an event older than the one already applied changes nothing."""
    node = {
        "code": data.code,
        "name": data.name,
        "kind": data.kind,
        "parent_code": data.parent_code,
        "path": materialized_path(data),
        "timezone": data.timezone,
        "is_active": data.is_active,
        "updated_at": occurred_at,
    }
    if not await write_if_newer(session, _NODES, node, key="code", version="updated_at", same_applies=True):
        log.info("stale_node_event_ignored", code=data.code)
        return
    log.info("node_applied", code=data.code)


@dataclass(frozen=True)
class Scope:
    """What an agency key sees: the subtree of its node."""

    code: str
    path: str

    def covers(self, code: str, path: str | None) -> bool:
        return code == self.code or (path is not None and path.startswith(self.path))


async def scope_of(session: AsyncSession, principal: Principal) -> Scope | None:
    """The key's subtree; None (sees nothing) when the key is not an agency's or its node is unknown here."""
    if principal.role is not Role.agency:
        return None
    node = await get_node(session, principal.agency_code)
    if node is None:
        return None
    return Scope(code=node.code, path=node.path)
