"""Queries on the directory replica: a node, and the subtree under a materialized path."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.models import Node


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def under_path(prefix: str) -> ColumnElement[bool]:
    """Nodes whose path starts with `prefix` (the node itself and its descendants).

    LIKE lets PostgreSQL use ix_nodes_path; the exact substr comparison keeps the match case-sensitive on
    SQLite, whose LIKE ignores ASCII case.
    """
    return and_(Node.path.like(_like_prefix(prefix), escape="\\"), func.substr(Node.path, 1, len(prefix)) == prefix)


def subtree_codes(prefix: str) -> Select[Any]:
    return select(Node.code).where(under_path(prefix))


async def get_node(session: AsyncSession, code: str | None) -> Node | None:
    if not code:
        return None
    return await session.get(Node, code)


async def paths_of(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """The materialized path of each of `codes` the directory knows."""
    if not codes:
        return {}
    rows = await session.execute(select(Node.code, Node.path).where(Node.code.in_(codes)))
    return {code: path for code, path in rows}
