"""API keys: per agency node (scoped to its subtree by the agency service) and for coordinators and admins."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response

from routing_svc.auth import AdminDep
from routing_svc.dependencies import IdempotencyDep
from routing_svc.directory.repository import get_node
from routing_svc.keys import service
from routing_svc.keys.schemas import AgencyKeyCreate, IssuedKeyOut, KeyList, KeyRotate, StaffKeyCreate
from shared.domain import Role
from shared.errors import ApiError, error_responses, not_found
from shared.http.app import RuntimeDep, SessionDep
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/hub", tags=["keys"])


@router.post(
    "/agencies/{code}/api-keys",
    response_model=IssuedKeyOut,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def issue_agency_key(
    code: str,
    body: AgencyKeyCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: AdminDep,
    idempotency: IdempotencyDep,
) -> IssuedKeyOut:
    """Issue an API key for an agency node (admin); the key is shown once, only its hash is kept."""

    async def act() -> IssuedKeyOut:
        node = await get_node(session, code, for_update=True)  # not while the node is being deactivated
        if node is None:
            raise not_found("agency")
        if not node.is_active:
            raise ApiError(409, "agency_inactive", f"node {code!r} is inactive")
        spec = service.KeySpec(Role.agency, agency_code=node.code, label=body.label, expires_at=body.expires_at)
        return await service.issue_key(session, runtime, spec, runtime.clock.now(), actor=principal.actor)

    return await idempotency.commit_once(session, IssuedKeyOut, act)


@router.get(
    "/agencies/{code}/api-keys",
    response_model=KeyList,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def list_agency_keys(code: str, session: SessionDep, runtime: RuntimeDep, _: AdminDep, page: PageDep) -> KeyList:
    """List an agency node's keys (admin): prefixes only, never the keys."""
    if await get_node(session, code) is None:
        raise not_found("agency")
    items = await service.list_keys(session, agency_code=code, role=None, page=page, now=runtime.clock.now())
    return KeyList(items=items[: page.limit], next_offset=page.next_offset(len(items)))


@router.post("/api-keys", response_model=IssuedKeyOut, status_code=201, responses=error_responses(401, 403, 422))
async def issue_staff_key(
    body: StaffKeyCreate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep, idempotency: IdempotencyDep
) -> IssuedKeyOut:
    """Issue a coordinator, admin or channel key (admin); the key is shown once, only its hash is kept."""
    spec = service.KeySpec(Role(body.role.value), label=body.label, expires_at=body.expires_at)
    return await idempotency.commit_once(
        session,
        IssuedKeyOut,
        lambda: service.issue_key(session, runtime, spec, runtime.clock.now(), actor=principal.actor),
    )


@router.get("/api-keys", response_model=KeyList, status_code=200, responses=error_responses(401, 403, 422))
async def list_all_keys(
    session: SessionDep,
    runtime: RuntimeDep,
    _: AdminDep,
    page: PageDep,
    role: Role | None = None,
) -> KeyList:
    """List every issued key (admin), oldest first: prefixes only, never the keys."""
    items = await service.list_keys(session, agency_code=None, role=role, page=page, now=runtime.clock.now())
    return KeyList(items=items[: page.limit], next_offset=page.next_offset(len(items)))


@router.delete(
    "/api-keys/{key_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404),
)
async def revoke_api_key(key_id: str, session: SessionDep, runtime: RuntimeDep, principal: AdminDep) -> Response:
    """Revoke a key (admin), `bootstrap` for the bootstrap admin key; every service stops accepting it once
    auth.key_revoked reaches it."""
    revoked = await service.revoke_key(session, runtime, key_id, runtime.clock.now(), actor=principal.actor)
    if not revoked:
        raise not_found("API key")
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/api-keys/{key_id}/rotate",
    response_model=IssuedKeyOut,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def rotate_api_key(
    key_id: str,
    body: KeyRotate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: AdminDep,
    idempotency: IdempotencyDep,
) -> IssuedKeyOut:
    """Rotate a key (admin): a new key like it, shown once; the old one stops after `grace_seconds`."""
    grace = timedelta(seconds=body.grace_seconds)
    return await idempotency.commit_once(
        session,
        IssuedKeyOut,
        lambda: service.rotate_key(session, runtime, key_id, grace, runtime.clock.now(), actor=principal.actor),
    )
