"""Whistleblowing (WBS) reports: they go to the integrity node the directory names for the node they accuse, and
never to that node or below it.

The accused node is the one the report names: the reporter's choice of agency, or else the node the routing rules
would pick. Its integrity node is the nearest `integrity_node_code` up the tree from it (itself first). A WBS case
is seen and worked by its holder's keys only, never by the holder's ancestors (agency_svc), so an integrity node
that sits under the accused (an Inspektorat Jenderal under its ministry) does not let the accused see the case.

Nor is anyone in the accused's line told of it (`may_learn`): the escalation ladder skips the accused, the nodes
above it and the nodes below it, and the hub's statistics count the case under none of them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.directory.repository import get_active_node, get_node
from routing_svc.models import Case, Node
from shared.domain import Classification


def is_wbs(case: Case) -> bool:
    return case.classification == Classification.wbs


async def integrity_node_for(session: AsyncSession, accused: Node) -> Node | None:
    """The active integrity node that takes the reports about `accused`: the nearest one named up its path."""
    codes = accused.path_codes
    rows = await session.execute(select(Node.code, Node.integrity_node_code).where(Node.code.in_(codes)))
    named = {code: integrity for code, integrity in rows.all()}
    for code in reversed(codes):
        integrity = named.get(code)
        if integrity and integrity != accused.code:
            node = await get_active_node(session, integrity)
            if node is not None:
                return node
    return None


async def may_hold(session: AsyncSession, case: Case, target: Node) -> bool:
    """Whether `target` may hold `case`: always for a non-WBS case; for a WBS case, its integrity node, or any
    node that is neither the accused nor under it."""
    if not is_wbs(case) or not case.accused_agency_code:
        return True
    if target.code != case.accused_agency_code and f"/{case.accused_agency_code}/" not in target.path:
        return True
    accused = await get_active_node(session, case.accused_agency_code)
    integrity = await integrity_node_for(session, accused) if accused else None
    return integrity is not None and integrity.code == target.code


def in_line_of(accused: Node, node: Node) -> bool:
    """Whether `node` is `accused`, above it, or below it."""
    return accused.path.startswith(node.path) or node.path.startswith(accused.path)


async def may_learn(session: AsyncSession, case: Case, code: str) -> bool:
    """Whether node `code` may learn that `case` exists (be told of it, or see it counted): always for a non-WBS
    case; for a WBS case, its holder, or a node outside the accused's line (neither the accused, above it nor below
    it). While the accused node cannot be read, only the holder may."""
    if not is_wbs(case) or not case.accused_agency_code or code == case.agency_code:
        return True
    accused, node = await get_node(session, case.accused_agency_code), await get_node(session, code)
    return accused is not None and node is not None and not in_line_of(accused, node)
