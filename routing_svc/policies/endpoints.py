"""SLA policies: the working days each clock gets, per classification, category and node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from routing_svc.auth import AdminDep, StaffDep
from routing_svc.dependencies import IdempotencyDep
from routing_svc.directory.repository import get_node
from routing_svc.policies import repository, service
from routing_svc.policies.defaults import default_table
from routing_svc.policies.schemas import (
    DefaultDeadline,
    EffectiveDeadline,
    PolicyCreate,
    PolicyList,
    PolicyOut,
    PolicyUpdate,
)
from shared.domain import Classification, ClockKind, NodeCode
from shared.errors import ApiError, error_responses, not_found
from shared.http.app import RuntimeDep, SessionDep
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/hub", tags=["sla policies"])

PolicyId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The policy's id.")]


@dataclass(frozen=True)
class CaseLike:
    """The case an effective budget is asked for, as query parameters."""

    kind: ClockKind
    classification: Classification
    category: Annotated[str | None, Query(max_length=100)] = None
    agency_code: NodeCode | None = None
    berkadar_pengawasan: bool = False


RULES = """
A policy gives one clock (`verification`, `first_response`, `resolution`, `reporter_response`) a budget in working
days for the cases its matchers fit. A matcher left out fits every case; `agency_code` fits the node and its whole
subtree; a policy is either for pengaduan flagged *berkadar pengawasan* (`berkadar_pengawasan: true`, resolution
only) or for the other cases. When several fit, the nearest node wins, then a policy naming the category, then one
naming the classification, then the oldest. Where none fits, the defaults apply (listed with the policies).
Every change recomputes the deadlines of the open clocks of its kind; what already fired (a warning, a breach, an
escalation) stays fired.
"""


@router.post(
    "/sla-policies",
    response_model=PolicyOut,
    status_code=201,
    responses=error_responses(401, 403, 409, 422),
    description="Add an SLA policy (admin). `policy_exists` (409) if one has the same matchers.\n" + RULES,
)
async def create_sla_policy(
    body: PolicyCreate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep, idempotency: IdempotencyDep
) -> PolicyOut:
    """Add an SLA policy; open clocks of its kind are recomputed."""

    async def act() -> PolicyOut:
        return service.to_out(await service.create(session, body, runtime.clock.now(), actor=principal.actor))

    return await idempotency.commit_once(session, PolicyOut, act)


@router.get(
    "/sla-policies",
    response_model=PolicyList,
    status_code=200,
    responses=error_responses(401, 403, 422),
    description="List the SLA policies, and the defaults that apply where none fits.\n" + RULES,
)
async def list_sla_policies(
    session: SessionDep, _: StaffDep, page: PageDep, kind: ClockKind | None = None
) -> PolicyList:
    """List the SLA policies and the built-in defaults."""
    policies = await repository.list_policies(session, kind, page)
    return PolicyList(
        items=[service.to_out(p) for p in policies[: page.limit]],
        next_offset=page.next_offset(len(policies)),
        defaults=[
            DefaultDeadline(kind=k, classification=c, berkadar_pengawasan=b, working_days=d)
            for k, c, b, d in default_table()
            if kind is None or k is kind
        ],
    )


@router.get(
    "/sla-policies/effective",
    response_model=EffectiveDeadline,
    status_code=200,
    responses=error_responses(401, 403, 422),
    description="The budget a clock would get for a case like the one described.\n" + RULES,
)
async def effective_sla_policy(
    session: SessionDep, _: StaffDep, case: Annotated[CaseLike, Depends()]
) -> EffectiveDeadline:
    """Which policy (or default) applies to a case of this kind, classification, category and node."""
    path: list[str] = []
    if case.agency_code:
        node = await get_node(session, case.agency_code)
        if node is None:
            raise ApiError(422, "unknown_agency", f"agency_code {case.agency_code!r} is not in the directory")
        path = node.path_codes
    budget = await repository.effective_budget(
        session, case.kind, case.classification, case.category, path, case.berkadar_pengawasan
    )
    return EffectiveDeadline(kind=case.kind, working_days=budget.working_days, policy_id=budget.policy_id)


@router.get(
    "/sla-policies/{id}",
    response_model=PolicyOut,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def get_sla_policy(id: PolicyId, session: SessionDep, _: StaffDep) -> PolicyOut:
    """One SLA policy."""
    policy = await repository.get_policy(session, id)
    if policy is None:
        raise not_found("policy")
    return service.to_out(policy)


@router.patch(
    "/sla-policies/{id}",
    response_model=PolicyOut,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def update_sla_policy(
    id: PolicyId, body: PolicyUpdate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep
) -> PolicyOut:
    """Change a policy's working days (admin); open clocks of its kind are recomputed."""
    policy = await service.update(session, id, body.working_days, runtime.clock.now(), actor=principal.actor)
    await session.commit()
    return service.to_out(policy)


@router.delete(
    "/sla-policies/{id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def delete_sla_policy(id: PolicyId, session: SessionDep, runtime: RuntimeDep, principal: AdminDep) -> Response:
    """Remove a policy (admin); the open clocks it governed fall back to the next fitting policy or the default."""
    await service.delete(session, id, runtime.clock.now(), actor=principal.actor)
    await session.commit()
    return Response(status_code=204)
