"""Routing rules: which node a complaint goes to when the reporter chose none."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from routing_svc.auth import AdminDep, StaffDep
from routing_svc.dependencies import IdempotencyDep
from routing_svc.rules import service
from routing_svc.rules.schemas import RuleCreate, RuleList, RuleOut
from shared.domain import NodeCode
from shared.errors import error_responses, not_found
from shared.http.app import RuntimeDep, SessionDep
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/hub", tags=["routing rules"])

ORDER = """
A rule matches when every matcher it has matches: classification equal; category the complaint's category or one
of its ancestors in the category tree (a rule for `kesehatan` covers `rumah-sakit` under it), case-insensitively;
region_code is the complaint's region or contains it (rule `12` covers `1271`); keywords: ANY of them occurs as a
whole word or phrase in title + content, case-insensitively. The reporter's own (active) choice of agency always
comes first. Among matching rules whose node is active, the winner is decided in this order:
**priority** (highest first), then **specificity** (highest first; 4 if keywords + 2 if category + 1 if
classification + len(region_code)/10), then the **nearer category** (the complaint's own, or none, before its
parent's), then **created_at** (oldest first), then **id** (lowest first).
With no match the complaint waits in the coordinators' triage queue.
"""


@router.post(
    "/routing-rules",
    response_model=RuleOut,
    status_code=201,
    responses=error_responses(401, 403, 422),
    description="Add a routing rule (admin). `unknown_agency` if the node does not exist, `unknown_category` if the"
    " category is not an active one of the tree (GET /api/v1/hub/categories).\n" + ORDER,
)
async def create_routing_rule(
    body: RuleCreate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep, idempotency: IdempotencyDep
) -> RuleOut:
    """Add a routing rule; every matcher is optional and the most specific rule wins."""

    async def act() -> RuleOut:
        return service.rule_out(await service.create_rule(session, body, runtime.clock.now(), actor=principal.actor))

    return await idempotency.commit_once(session, RuleOut, act)


@router.get(
    "/routing-rules",
    response_model=RuleList,
    status_code=200,
    responses=error_responses(401, 403, 422),
    description="List routing rules, by id, optionally those of one node.\n" + ORDER,
)
async def list_routing_rules(
    session: SessionDep, _: StaffDep, page: PageDep, agency_code: NodeCode | None = None
) -> RuleList:
    """List routing rules, optionally those routing to one node."""
    rules = await service.list_rules(session, agency_code, page)
    return RuleList(items=[service.rule_out(r) for r in rules[: page.limit]], next_offset=page.next_offset(len(rules)))


@router.delete(
    "/routing-rules/{id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def delete_routing_rule(
    id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The rule's id.")],
    session: SessionDep,
    runtime: RuntimeDep,
    principal: AdminDep,
) -> Response:
    """Delete a routing rule (admin); cases it routed keep its id in their history."""
    if not await service.delete_rule(session, id, runtime.clock.now(), actor=principal.actor):
        raise not_found("routing rule")
    await session.commit()
    return Response(status_code=204)
