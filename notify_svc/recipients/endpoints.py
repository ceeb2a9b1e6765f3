"""Who receives escalation notices and digests (admins only): coordinators are registered here; the liaison officers
are the directory's, listed here as notify_svc knows them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.exc import IntegrityError

from notify_svc.models import IDEMPOTENCY
from notify_svc.recipients import service
from notify_svc.recipients.schemas import RecipientCreate, RecipientOut, RecipientPage
from shared.auth import Principal, require_roles
from shared.domain import NodeCode, Role
from shared.errors import ApiError, error_responses
from shared.http.app import RuntimeDep, SessionDep
from shared.http.idempotency import Idempotency, idempotency_dependency
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/notify", tags=["recipients"])

AdminKey = Annotated[Principal, Depends(require_roles(Role.admin))]
RecipientId = Annotated[str, Path(min_length=1, max_length=36, description="The recipient's id.")]

WHO = """
An escalation notice (`complaint.escalated`) goes to the liaison officers of the node it names
(`target_agency_code`: the late node at level 1, its parent at level 2) and to the coordinators registered here for
its level. The liaison officers are the directory's (`liaison_officers` of `/api/v1/hub/agencies/{code}`, those with
an email, in the node's timezone), copied from `directory.node_upserted`: they are listed here but neither added
nor removed. Each working day, at the digest hour of their timezone, a node's liaison officers get the digest of its
overdue and due-soon cases. Quiet hours hold back messages to people in their own timezone; not to a system's
mailbox (`is_system`).
"""


@router.post(
    "/recipients",
    response_model=RecipientOut,
    status_code=201,
    responses=error_responses(401, 403, 409, 422),
    description="Register a coordinator at a rung of the ladder (admin). `recipient_exists` (409) when the address "
    "is already registered there; a liaison officer (`role: liaison`, `node_code`) is refused (422): set it in the "
    "directory.\n" + WHO,
)
async def add_recipient(
    body: RecipientCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: AdminKey,
    idempotency: Annotated[Idempotency, Depends(idempotency_dependency(IDEMPOTENCY))],
) -> RecipientOut:
    """Register a coordinator."""
    try:
        return await idempotency.commit_once(
            session, RecipientOut, lambda: service.add(session, body, actor=principal.actor, now=runtime.clock.now())
        )
    except IntegrityError as exc:  # registered meanwhile by another request
        raise ApiError(409, "recipient_exists", f"this address is already registered for {body.scope()}") from exc


@router.get(
    "/recipients",
    response_model=RecipientPage,
    status_code=200,
    responses=error_responses(401, 403, 422),
    description="The liaison officers (from the directory) and the coordinators (admin), by node or rung.\n" + WHO,
)
async def list_recipients(
    session: SessionDep,
    _: AdminKey,
    page: PageDep,
    role: Literal["liaison", "coordinator"] | None = None,
    node_code: NodeCode | None = None,
    level: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> RecipientPage:
    """List the recipients."""
    return await service.listing(session, role=role, node_code=node_code, level=level, page=page)


@router.get(
    "/recipients/{id}",
    response_model=RecipientOut,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def get_recipient(id: RecipientId, session: SessionDep, _: AdminKey) -> RecipientOut:
    """One recipient."""
    return await service.one(session, id)


@router.delete(
    "/recipients/{id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422),
    description="Remove a coordinator (admin). What was already queued for them is skipped (`no_recipient`). A "
    "liaison officer answers 409 `recipient_from_directory`: take them off the node's `liaison_officers`.",
)
async def remove_recipient(id: RecipientId, session: SessionDep, runtime: RuntimeDep, principal: AdminKey) -> Response:
    """Remove a coordinator."""
    await service.remove(session, id, actor=principal.actor, now=runtime.clock.now())
    await session.commit()
    return Response(status_code=204)
