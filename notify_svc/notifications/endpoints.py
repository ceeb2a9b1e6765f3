"""The delivery log, for coordinators and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from notify_svc.models import NotificationStatus, RecipientKind
from notify_svc.notifications import service
from notify_svc.notifications.schemas import DeliveryPage, DeliveryView
from shared.auth import Principal, require_roles
from shared.domain import Role, TrackingId
from shared.errors import error_responses
from shared.http.app import SessionDep
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/notify", tags=["notifications"])

CoordinatorKey = Annotated[Principal, Depends(require_roles(Role.coordinator, Role.admin))]


@router.get(
    "/deliveries",
    response_model=DeliveryPage,
    status_code=200,
    tags=["notifications"],
    responses=error_responses(401, 403, 422),
)
async def list_deliveries(
    _: CoordinatorKey,
    session: SessionDep,
    page: PageDep,
    tracking_id: Annotated[TrackingId | None, Query(description="Only this case's notifications.")] = None,
    status: Annotated[NotificationStatus | None, Query(description="Only notifications in this state.")] = None,
    recipient_kind: Annotated[RecipientKind | None, Query(description="Only those for this kind of recipient.")] = None,
) -> DeliveryPage:
    """The delivery log, newest first: each notification, its attempts and its outcome (never contact details)."""
    return await service.delivery_page(
        session,
        tracking_id=tracking_id,
        status=status,
        recipient_kind=recipient_kind,
        page=page,
    )


@router.get(
    "/deliveries/{id}",
    response_model=DeliveryView,
    status_code=200,
    tags=["notifications"],
    responses=error_responses(401, 403, 404, 422),
)
async def get_delivery(
    _: CoordinatorKey,
    session: SessionDep,
    id: Annotated[str, Path(min_length=1, max_length=36, description="The notification id.")],
) -> DeliveryView:
    """One notification of the delivery log."""
    return await service.delivery(session, id)
