"""Whistleblowing (WBS) reports: they go to the integrity node the directory names for the node they accuse, and
never to that node or below it.

The accused node is the one the report names: the reporter's choice of agency, or else the node the routing rules
would pick. Its integrity node is the nearest `integrity_node_code` up the tree from it (itself first). A WBS case
is seen and worked by its holder's keys only, never by the holder's ancestors (agency_svc), so an integrity node
that sits under the accused (an Inspektorat Jenderal under its ministry) does not let the accused see the case.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.directory.repository import get_active_node
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
