"""Directory queries. A subtree is a prefix match on the indexed materialized path."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.directory.schemas import NodeQuery
from routing_svc.models import Node
from shared.db.dialect import dialect_of
from shared.http.paging import Page


def path_of(codes: Sequence[str]) -> str:
    """["A", "B"] -> "/A/B/"."""
    return "/" + "/".join(codes) + "/"


def under_path(session: AsyncSession, prefix: str) -> ColumnElement[bool]:
    """`Node.path` starts with `prefix`, as an index-friendly LIKE-prefix (GLOB on SQLite, which is case-sensitive
    and uses the plain index; LIKE with escaping on PostgreSQL, which uses the varchar_pattern_ops index)."""
    if dialect_of(session) == "sqlite":
        # Node codes hold no GLOB metacharacters (*, ?, [), so the prefix is literal.
        return Node.path.op("GLOB")(prefix + "*")
    return Node.path.startswith(prefix, autoescape=True)


async def get_node(session: AsyncSession, code: str, *, for_update: bool = False) -> Node | None:
    stmt = select(Node).where(Node.code == code)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_active_node(session: AsyncSession, code: str | None) -> Node | None:
    if not code:
        return None
    node = await get_node(session, code)
    return node if node is not None and node.is_active else None


async def descendants(session: AsyncSession, node: Node) -> list[Node]:
    """Every node under `node` (not itself), shallowest first."""
    stmt = (
        select(Node)
        .where(under_path(session, node.path), Node.code != node.code)
        .order_by(Node.depth, Node.code)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def list_nodes(session: AsyncSession, query: NodeQuery, page: Page) -> list[Node]:
    stmt = select(Node)
    if query.parent_code is not None:
        stmt = stmt.where(Node.parent_code == query.parent_code)
    if query.kind is not None:
        stmt = stmt.where(Node.kind == query.kind.value)
    if query.q:
        pattern = "%" + query.q.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"

        stmt = stmt.where(
            or_(func.lower(Node.name).like(pattern, escape="!"), func.lower(Node.code).like(pattern, escape="!"))
        )
    if query.under is not None:
        root = await get_node(session, query.under)
        if root is None:
            return []
        stmt = stmt.where(under_path(session, root.path))
    stmt = stmt.order_by(Node.path).limit(page.limit + 1).offset(page.offset)
    return list((await session.execute(stmt)).scalars())
