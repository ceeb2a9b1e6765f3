"""The webhook API: a node's endpoints, their delivery log and redelivery, each call with the node's key."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from agency_svc.context import ContextDep, IdempotencyDep
from agency_svc.models import DeliveryStatus
from agency_svc.webhooks import service
from agency_svc.webhooks.schemas import (
    DeliveryPage,
    DeliveryView,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookPatch,
    WebhookView,
)
from shared.auth import Principal, require_roles
from shared.domain import Role, TrackingId
from shared.errors import error_responses
from shared.http.app import RuntimeDep, SessionDep
from shared.http.paging import PageDep
from shared.http.ratelimit import too_many_requests

router = APIRouter(prefix="/api/v1/agency/webhooks", tags=["webhooks"])

AgencyKey = Annotated[Principal, Depends(require_roles(Role.agency))]
WebhookId = Annotated[str, Path(min_length=1, max_length=36, description="The webhook's id.")]
DeliveryId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The delivery's id.")]


@dataclass(frozen=True)
class DeliveryQuery:
    """The delivery log's filters, as query parameters."""

    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this state.")] = None
    tracking_id: Annotated[TrackingId | None, Query(description="Only this case's deliveries.")] = None


DeliveryQueryDep = Annotated[DeliveryQuery, Depends()]

REDELIVERY_LIMITED = (
    "terlalu banyak permintaan kirim ulang untuk webhook ini; coba lagi setelah Retry-After detik / "
    "too many redeliveries asked for this webhook; try again after Retry-After seconds"
)


@router.post("", response_model=WebhookCreated, status_code=201, responses=error_responses(401, 403, 409, 422))
async def create_webhook(
    body: WebhookIn,
    principal: AgencyKey,
    session: SessionDep,
    runtime: RuntimeDep,
    ctx: ContextDep,
    idempotency: IdempotencyDep,
) -> WebhookCreated:
    """Register an endpoint of the key's node for some event types; the answer shows the signing secret, once."""
    return await idempotency.commit_once(
        session, WebhookCreated, lambda: service.create(session, principal, body, ctx.webhooks, runtime.clock.now())
    )


@router.get("", response_model=WebhookList, status_code=200, responses=error_responses(401, 403))
async def list_webhooks(principal: AgencyKey, session: SessionDep) -> WebhookList:
    """The endpoints of the key's node (never their secrets)."""
    return await service.list_endpoints(session, principal)


@router.get("/deliveries", response_model=DeliveryPage, status_code=200, responses=error_responses(401, 403, 422))
async def list_node_deliveries(
    principal: AgencyKey, session: SessionDep, query: DeliveryQueryDep, page: PageDep
) -> DeliveryPage:
    """The node's delivery log across all its endpoints, newest first, each delivery with its attempts."""
    return await service.node_deliveries(session, principal, **asdict(query), page=page)


@router.get("/{webhook_id}", response_model=WebhookView, status_code=200, responses=error_responses(401, 403, 404))
async def get_webhook(webhook_id: WebhookId, principal: AgencyKey, session: SessionDep) -> WebhookView:
    """One endpoint of the key's node."""
    return await service.get_endpoint(session, principal, webhook_id)


@router.patch(
    "/{webhook_id}", response_model=WebhookView, status_code=200, responses=error_responses(401, 403, 404, 422)
)
async def update_webhook(
    webhook_id: WebhookId,
    body: WebhookPatch,
    principal: AgencyKey,
    session: SessionDep,
    runtime: RuntimeDep,
    ctx: ContextDep,
) -> WebhookView:
    """Change an endpoint's URL, event types or secret; pending deliveries are sent with the new URL and secret."""
    updated = await service.update_endpoint(session, principal, webhook_id, body, ctx.webhooks, runtime.clock.now())
    await session.commit()
    return updated


@router.delete("/{webhook_id}", status_code=204, responses=error_responses(401, 403, 404))
async def delete_webhook(
    webhook_id: WebhookId, principal: AgencyKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Delete an endpoint with its deliveries; nothing more is sent to it."""
    await service.delete_endpoint(session, principal, webhook_id, runtime.clock.now())
    await session.commit()
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def list_deliveries(
    webhook_id: WebhookId, principal: AgencyKey, session: SessionDep, query: DeliveryQueryDep, page: PageDep
) -> DeliveryPage:
    """The endpoint's delivery log, newest first: each delivery with its attempts' times, status codes and durations."""
    return await service.deliveries(session, principal, webhook_id, **asdict(query), page=page)


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryView,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def get_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, principal: AgencyKey, session: SessionDep
) -> DeliveryView:
    """One delivery of the endpoint, with its attempts."""
    return await service.delivery(session, principal, webhook_id, delivery_id)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryView,
    status_code=202,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
async def redeliver(
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
    principal: AgencyKey,
    session: SessionDep,
    runtime: RuntimeDep,
    ctx: ContextDep,
    idempotency: IdempotencyDep,
) -> DeliveryView:
    """Send a delivery again now (same body and ids), whatever its state; 409 while it is being sent, 429 past the
    endpoint's redeliveries a minute."""

    async def act() -> DeliveryView:
        # Only a new request spends the endpoint's share: a retry with its Idempotency-Key replays the first answer.
        wait = ctx.redeliveries.take(f"{principal.agency_code}/{webhook_id}")
        if wait is not None:
            raise too_many_requests(wait, REDELIVERY_LIMITED)
        return await service.redeliver(session, principal, webhook_id, delivery_id, ctx.webhooks, runtime.clock.now())

    return await idempotency.commit_once(session, DeliveryView, act)
