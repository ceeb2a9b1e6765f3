"""The agency directory: a tree of nodes (instansi > unit utama / Kanwil > UPT)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.exc import IntegrityError

from routing_svc.auth import AdminDep, StaffDep
from routing_svc.dependencies import IdempotencyDep
from routing_svc.directory import repository, service
from routing_svc.directory.schemas import NodeCreate, NodeList, NodeOut, NodeQuery, NodeUpdate
from routing_svc.keys import service as keys
from shared.errors import ApiError, error_responses, not_found
from shared.http.app import RuntimeDep, SessionDep
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/hub", tags=["directory"])


@router.post(
    "/agencies",
    response_model=NodeOut,
    status_code=201,
    responses=error_responses(401, 403, 409, 422),
)
async def create_agency(
    body: NodeCreate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep, idempotency: IdempotencyDep
) -> NodeOut:
    """Add a node to the directory (admin); `agency_exists` if the code is taken, `unknown_parent` if no parent."""

    async def act() -> NodeOut:
        node = await service.create_node(session, runtime.outbox, body, runtime.clock.now(), actor=principal.actor)
        return service.node_out(node)

    try:
        return await idempotency.commit_once(session, NodeOut, act)
    except IntegrityError as exc:
        raise ApiError(409, "agency_exists", f"a node with code {body.code!r} already exists") from exc


@router.get("/agencies", response_model=NodeList, status_code=200, responses=error_responses(401, 403, 422))
async def list_agencies(
    session: SessionDep,
    _: StaffDep,
    query: Annotated[NodeQuery, Depends()],
    page: PageDep,
) -> NodeList:
    """List directory nodes in tree order, filtered by parent, kind, subtree or text."""
    nodes = await repository.list_nodes(session, query, page)
    return NodeList(items=[service.node_out(n) for n in nodes[: page.limit]], next_offset=page.next_offset(len(nodes)))


@router.get("/agencies/{code}", response_model=NodeOut, status_code=200, responses=error_responses(401, 403, 404))
async def get_agency(code: str, session: SessionDep, _: StaffDep) -> NodeOut:
    """One directory node, with its path from the root."""
    node = await repository.get_node(session, code)
    if node is None:
        raise not_found("agency")
    return service.node_out(node)


@router.patch(
    "/agencies/{code}",
    response_model=NodeOut,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def update_agency(
    code: str, body: NodeUpdate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep
) -> NodeOut:
    """Change a node (admin); a new parent moves its subtree (`cycle` if the parent is inside it). An inactive node's
    API keys are revoked, in every service, for good."""
    now = runtime.clock.now()
    node = await service.update_node(session, runtime.outbox, code, body, now, actor=principal.actor)
    if not node.is_active:
        await keys.revoke_keys_of_node(session, runtime, node.code, now, actor=principal.actor)
    await session.commit()
    return service.node_out(node)
