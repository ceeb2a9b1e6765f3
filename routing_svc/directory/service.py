"""Directory writes: create and update nodes, keep materialized paths right, publish directory.node_upserted (with
the liaison officers notify_svc writes to: the directory is their one source)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.directory.repository import descendants, get_node, path_of
from routing_svc.directory.schemas import NodeCreate, NodeOut, NodeUpdate
from routing_svc.models import KIT, Node
from shared import audit
from shared.errors import ApiError, not_found
from shared.events.contracts import LiaisonContact, NodeUpserted
from shared.logging import get_logger
from shared.outbox import Outbox

log = get_logger(__name__)

MAX_DEPTH = 15
"""Roots are depth 0. Deep enough for instansi > unit utama > Kanwil > UPT > sub-units, and keeps paths bounded."""


def node_event(node: Node) -> NodeUpserted:
    return NodeUpserted(
        code=node.code,
        name=node.name,
        kind=node.kind,
        parent_code=node.parent_code,
        path=node.path_codes,
        timezone=node.timezone,
        is_active=node.is_active,
        liaison_officers=[
            LiaisonContact(name=o["name"], email=o["email"], language=o.get("language", "id"))
            for o in node.liaison_officers
            if o.get("email")
        ],
    )


def node_out(node: Node) -> NodeOut:
    return NodeOut.model_validate(
        {
            "code": node.code,
            "name": node.name,
            "kind": node.kind,
            "parent_code": node.parent_code,
            "region_codes": node.region_codes,
            "categories": node.categories,
            "timezone": node.timezone,
            "is_active": node.is_active,
            "liaison_officers": node.liaison_officers,
            "integrity_node_code": node.integrity_node_code,
            "path": node.path_codes,
            "depth": node.depth,
            "created_at": node.created_at,
            "updated_at": node.updated_at,
        }
    )


async def _parent(session: AsyncSession, code: str | None) -> Node | None:
    if code is None:
        return None
    parent = await get_node(session, code)
    if parent is None:
        raise ApiError(422, "unknown_parent", f"parent node {code!r} does not exist")
    return parent


def _too_deep(depth: int) -> ApiError:
    return ApiError(
        422, "too_deep", f"the directory is at most {MAX_DEPTH + 1} levels deep (this would be {depth + 1})"
    )


async def create_node(session: AsyncSession, outbox: Outbox, body: NodeCreate, now: datetime, *, actor: str) -> Node:
    if await get_node(session, body.code) is not None:
        raise ApiError(409, "agency_exists", f"a node with code {body.code!r} already exists")
    parent = await _parent(session, body.parent_code)
    depth = parent.depth + 1 if parent else 0
    if depth > MAX_DEPTH:
        raise _too_deep(depth)
    node = Node(
        code=body.code,
        name=body.name,
        kind=body.kind.value,
        parent_code=parent.code if parent else None,
        path=path_of([*(parent.path_codes if parent else []), body.code]),
        depth=depth,
        region_codes=list(dict.fromkeys(body.region_codes)),
        categories=list(dict.fromkeys(body.categories)),
        timezone=body.timezone.value,
        is_active=body.is_active,
        liaison_officers=[o.model_dump(mode="json") for o in body.liaison_officers],
        integrity_node_code=None,
        created_at=now,
        updated_at=now,
    )
    session.add(node)
    if body.integrity_node_code is not None:
        node.integrity_node_code = await _integrity_node(session, node, body.integrity_node_code)
    await session.flush()
    await outbox.add(session, node_event(node))
    await _audit(session, actor, "node.create", node, now, fields=sorted(body.model_fields_set))
    log.info("node_created", code=node.code, parent_code=node.parent_code)
    return node


async def update_node(
    session: AsyncSession, outbox: Outbox, code: str, body: NodeUpdate, now: datetime, *, actor: str
) -> Node:
    node = await get_node(session, code, for_update=True)
    if node is None:
        raise not_found("agency")
    sent = body.model_fields_set
    for field in ("name", "is_active"):
        if field in sent and getattr(body, field) is not None:
            setattr(node, field, getattr(body, field))
    if "kind" in sent and body.kind is not None:
        node.kind = body.kind.value
    if "timezone" in sent and body.timezone is not None:
        node.timezone = body.timezone.value
    if "region_codes" in sent and body.region_codes is not None:
        node.region_codes = list(dict.fromkeys(body.region_codes))
    if "categories" in sent and body.categories is not None:
        node.categories = list(dict.fromkeys(body.categories))
    if "liaison_officers" in sent and body.liaison_officers is not None:
        node.liaison_officers = [o.model_dump(mode="json") for o in body.liaison_officers]
    if "integrity_node_code" in sent:
        node.integrity_node_code = (
            await _integrity_node(session, node, body.integrity_node_code) if body.integrity_node_code else None
        )
    node.updated_at = now
    moved: list[Node] = []
    if "parent_code" in sent and body.parent_code != node.parent_code:
        moved = await _reparent(session, node, body.parent_code, now)
    await session.flush()
    await outbox.add(session, node_event(node), *(node_event(d) for d in moved))
    await _audit(session, actor, "node.update", node, now, fields=sorted(sent), moved_descendants=len(moved))
    log.info("node_updated", code=node.code, moved_descendants=len(moved))
    return node


async def _audit(session: AsyncSession, actor: str, action: str, node: Node, now: datetime, **details: object) -> None:
    """The names of the fields sent, not their values: liaison officers' contacts stay out of the trail."""
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=actor,
            action=action,
            target_type=audit.Target.node,
            target_id=node.code,
            at=now,
            details={"parent_code": node.parent_code, "kind": node.kind, "is_active": node.is_active, **details},
        ),
    )


async def _integrity_node(session: AsyncSession, node: Node, code: str) -> str:
    """`code` if it can take the WBS reports about `node`: an existing node other than `node` itself.

    It may lie under `node` (an Inspektorat Jenderal under its ministry): a WBS case is seen by its holder's keys
    only, never by the holder's ancestors.
    """
    target = await get_node(session, code)
    if target is None:
        raise ApiError(422, "unknown_agency", f"integrity_node_code {code!r} is not in the directory")
    if target.code == node.code:
        raise ApiError(422, "integrity_node_is_self", f"{code!r} cannot take the reports about itself")
    return target.code


async def _reparent(session: AsyncSession, node: Node, parent_code: str | None, now: datetime) -> list[Node]:
    """Give `node` a new parent and rewrite the paths of its whole subtree; returns the moved descendants."""
    parent = await _parent(session, parent_code)
    if parent is not None and (parent.code == node.code or parent.path.startswith(node.path)):
        raise ApiError(422, "cycle", f"{parent.code!r} is {node.code!r} or under it; the directory must stay a tree")
    old_path, old_depth = node.path, node.depth
    new_path = path_of([*(parent.path_codes if parent else []), node.code])
    new_depth = parent.depth + 1 if parent else 0
    subtree = await descendants(session, node)
    deepest = max([d.depth for d in subtree], default=old_depth) - old_depth + new_depth
    if deepest > MAX_DEPTH:
        raise _too_deep(deepest)
    node.parent_code = parent.code if parent else None
    node.path, node.depth = new_path, new_depth
    for d in subtree:
        d.path = new_path + d.path[len(old_path) :]
        d.depth = d.depth - old_depth + new_depth
        d.updated_at = now
    return subtree
