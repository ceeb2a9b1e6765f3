"""Cases as the hub's coordinators see them (triage, search, full history, clocks), and their decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from routing_svc.auth import StaffDep
from routing_svc.cases import repository, service, views
from routing_svc.cases.schemas import CaseList, CaseQuery, CaseUpdate, CaseView, Decision
from routing_svc.dependencies import CaseCtxDep, IdempotencyDep
from shared.errors import error_responses, not_found
from shared.http.app import SessionDep
from shared.http.paging import PageDep
from shared.logging import bind_tracking_id

router = APIRouter(prefix="/api/v1/hub")


@router.get(
    "/complaints",
    response_model=CaseList,
    status_code=200,
    tags=["cases"],
    responses=error_responses(401, 403, 422),
)
async def list_complaints(
    session: SessionDep,
    ctx: CaseCtxDep,
    _: StaffDep,
    query: Annotated[CaseQuery, Depends()],
    page: PageDep,
) -> CaseList:
    """Search cases by status, node, lateness and escalation, oldest first; `triage=true` gives the triage queue."""
    cases = await repository.list_cases(session, query, page, now=ctx.clock.now())
    return CaseList(items=[views.summary(c) for c in cases[: page.limit]], next_offset=page.next_offset(len(cases)))


@router.get(
    "/complaints/{tracking_id}",
    response_model=CaseView,
    status_code=200,
    tags=["cases"],
    responses=error_responses(401, 403, 404),
)
async def get_complaint(tracking_id: str, session: SessionDep, ctx: CaseCtxDep, _: StaffDep) -> CaseView:
    """One case with its full history (every transition, who made it and why) and its SLA clocks."""
    case = await repository.get_case(session, tracking_id)
    if case is None:
        raise not_found("case")
    return await service.view(session, ctx, case)


@router.patch(
    "/complaints/{tracking_id}",
    response_model=CaseView,
    status_code=200,
    tags=["cases"],
    responses=error_responses(401, 403, 404, 422),
)
async def update_complaint(
    tracking_id: str, body: CaseUpdate, session: SessionDep, ctx: CaseCtxDep, principal: StaffDep
) -> CaseView:
    """Flag a pengaduan berkadar pengawasan (or unflag it); `not_pengaduan` (422) for other classifications."""
    bind_tracking_id(tracking_id)
    case = await service.set_berkadar_pengawasan(session, ctx, tracking_id, body.berkadar_pengawasan, principal)
    await session.commit()
    return await service.view(session, ctx, case)


@router.post(
    "/complaints/{tracking_id}/decisions",
    response_model=CaseView,
    status_code=200,
    tags=["decisions"],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def decide(
    tracking_id: str,
    body: Decision,
    session: SessionDep,
    ctx: CaseCtxDep,
    principal: StaffDep,
    idempotency: IdempotencyDep,
) -> CaseView:
    """Dispose (also to override a holding node), postpone or reject a case; 409 `illegal_transition` if not allowed."""
    bind_tracking_id(tracking_id)

    async def act() -> CaseView:
        case = await service.decide(session, ctx, tracking_id, body, principal)
        return await service.view(session, ctx, case)

    return await idempotency.commit_once(session, CaseView, act)
