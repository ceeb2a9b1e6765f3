"""The agency API: a node's inbox (its subtree) and the work on a case, each call with the node's key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from agency_svc.context import ContextDep, IdempotencyDep
from agency_svc.inbox import service
from agency_svc.inbox.schemas import (
    CaseDetail,
    DelegateIn,
    FollowUpIn,
    FollowUpView,
    ForwardIn,
    Inbox,
    InboxQuery,
    MessagePage,
)
from shared.auth import Principal, require_roles
from shared.domain import Role
from shared.errors import error_responses
from shared.http.app import RuntimeDep, SessionDep
from shared.http.paging import PageDep
from shared.logging import bind_tracking_id

router = APIRouter(prefix="/api/v1/agency", tags=["agency"])

AgencyKey = Annotated[Principal, Depends(require_roles(Role.agency))]


@router.get(
    "/complaints",
    response_model=Inbox,
    status_code=200,
    tags=["agency"],
    responses=error_responses(401, 403, 422),
)
async def list_complaints(
    principal: AgencyKey,
    session: SessionDep,
    runtime: RuntimeDep,
    query: Annotated[InboxQuery, Depends()],
    page: PageDep,
) -> Inbox:
    """The inbox of the key's node and every node under it, newest disposition first."""
    return await service.inbox(session, principal, query, page, now=runtime.clock.now())


@router.get(
    "/complaints/{tracking_id}",
    response_model=CaseDetail,
    status_code=200,
    tags=["agency"],
    responses=error_responses(401, 403, 404),
)
async def get_complaint(tracking_id: str, principal: AgencyKey, session: SessionDep, ctx: ContextDep) -> CaseDetail:
    """A case held in the key's subtree: the report, follow-ups, the reporter's messages and the history."""
    bind_tracking_id(tracking_id)
    return await service.case_detail(session, principal, tracking_id, ctx.names)


@router.get(
    "/complaints/{tracking_id}/messages",
    response_model=MessagePage,
    status_code=200,
    tags=["agency"],
    responses=error_responses(401, 403, 404, 422),
)
async def list_messages(tracking_id: str, principal: AgencyKey, session: SessionDep, page: PageDep) -> MessagePage:
    """The reporter's messages on a case held in the key's subtree, newest first, a page at a time."""
    bind_tracking_id(tracking_id)
    return await service.case_messages(session, principal, tracking_id, page)


@router.post(
    "/complaints/{tracking_id}/acknowledge",
    response_model=CaseDetail,
    status_code=200,
    tags=["agency"],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def acknowledge_complaint(
    tracking_id: str, principal: AgencyKey, session: SessionDep, ctx: ContextDep, idempotency: IdempotencyDep
) -> CaseDetail:
    """Acknowledge a dispositioned case (idempotent: acknowledging again changes and emits nothing)."""
    bind_tracking_id(tracking_id)
    return await idempotency.commit_once(
        session, CaseDetail, lambda: service.acknowledge(session, ctx, principal, tracking_id)
    )


@router.post(
    "/complaints/{tracking_id}/follow-ups",
    response_model=FollowUpView,
    status_code=201,
    tags=["agency"],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def post_follow_up(
    tracking_id: str,
    body: FollowUpIn,
    principal: AgencyKey,
    session: SessionDep,
    ctx: ContextDep,
    idempotency: IdempotencyDep,
) -> FollowUpView:
    """Post a follow-up (tindak lanjut): progress, or final (the answer) with is_final."""
    bind_tracking_id(tracking_id)
    return await idempotency.commit_once(
        session, FollowUpView, lambda: service.post_follow_up(session, ctx, principal, tracking_id, body)
    )


@router.post(
    "/complaints/{tracking_id}/forward",
    response_model=CaseDetail,
    status_code=202,
    tags=["agency"],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def forward_complaint(
    tracking_id: str,
    body: ForwardIn,
    principal: AgencyKey,
    session: SessionDep,
    ctx: ContextDep,
    idempotency: IdempotencyDep,
) -> CaseDetail:
    """Ask the hub to route the case elsewhere (bukan wewenang), perhaps to a suggested node."""
    bind_tracking_id(tracking_id)
    return await idempotency.commit_once(
        session, CaseDetail, lambda: service.request_forward(session, ctx, principal, tracking_id, body)
    )


@router.post(
    "/complaints/{tracking_id}/delegate",
    response_model=CaseDetail,
    status_code=202,
    tags=["agency"],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def delegate_complaint(
    tracking_id: str,
    body: DelegateIn,
    principal: AgencyKey,
    session: SessionDep,
    ctx: ContextDep,
    idempotency: IdempotencyDep,
) -> CaseDetail:
    """Delegate the case to a node under its holder (for example a Kanwil to its UPT)."""
    bind_tracking_id(tracking_id)
    return await idempotency.commit_once(
        session, CaseDetail, lambda: service.delegate(session, ctx, principal, tracking_id, body)
    )
