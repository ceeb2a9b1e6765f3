"""Registering a node's endpoints, reading their delivery log, and redelivering by hand. Never commits.

A key manages its own node's endpoints only; any other endpoint answers 404, whether or not it exists. Each
change is an audit entry (never the secret, and of the URL only its origin: a query may hold a receiver's token).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.models import KIT, DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from agency_svc.settings import AgencySettings
from agency_svc.webhooks import repository as repo
from agency_svc.webhooks.destinations import DestinationPolicy, literal_address
from agency_svc.webhooks.events import WebhookEvent
from agency_svc.webhooks.fanout import wake_sender_on_commit
from agency_svc.webhooks.schemas import (
    AttemptView,
    DeliveryPage,
    DeliveryView,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookPatch,
    WebhookView,
)
from agency_svc.webhooks.signing import new_secret
from shared import audit
from shared.auth.keys import Principal
from shared.crypto import Sealer
from shared.errors import ApiError, not_found
from shared.http.paging import Page
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class WebhookConfig:
    sealer: Sealer
    max_age: timedelta
    endpoints_per_node: int
    destinations: DestinationPolicy

    @classmethod
    def of(cls, settings: AgencySettings, sealer: Sealer) -> WebhookConfig:
        return cls(
            sealer=sealer,
            max_age=timedelta(seconds=settings.webhook_max_age_seconds),
            endpoints_per_node=settings.webhook_endpoints_per_node,
            destinations=DestinationPolicy(settings.webhook_allowed_network_list()),
        )


def _node(principal: Principal) -> str:
    if not principal.agency_code:
        raise ApiError(403, "forbidden", "this key names no agency node")
    return principal.agency_code


def _view(e: WebhookEndpoint) -> WebhookView:
    return WebhookView(
        id=e.id,
        agency_code=e.agency_code,
        url=e.url,
        event_types=[WebhookEvent(t) for t in e.event_types],
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


def _delivery_view(d: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryView:
    return DeliveryView(
        delivery_id=d.id,
        webhook_id=d.endpoint_id,
        event_id=d.event_id,
        event_type=WebhookEvent(d.event_type),
        tracking_id=d.tracking_id,
        status=DeliveryStatus(d.status),
        attempts=d.attempts,
        created_at=d.created_at,
        next_attempt_at=d.next_attempt_at,
        give_up_at=d.give_up_at,
        finished_at=d.finished_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        attempt_log=[
            AttemptView(
                attempted_at=a.attempted_at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms
            )
            for a in attempts
        ],
    )


def _origin(url: str) -> str:
    u = httpx.URL(url)
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}"


def _check_destination(url: str, config: WebhookConfig) -> None:
    """422 for a URL whose host is a literal address in a refused network; a name is checked at each delivery."""
    address = literal_address(httpx.URL(url).host)
    if address is not None and config.destinations.is_blocked(address):
        raise ApiError(
            422,
            "webhook_destination_blocked",
            f"{address} is in a blocked network (loopback, private, link-local, multicast, reserved or unspecified): "
            "the hub does not deliver into internal networks unless SIMPUL_AGENCY_WEBHOOK_ALLOWED_NETWORKS allows it",
        )


async def _endpoint(session: AsyncSession, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await repo.endpoint_of_node(session, _node(principal), endpoint_id)
    if endpoint is None:
        raise not_found("webhook")
    return endpoint


async def create(
    session: AsyncSession, principal: Principal, body: WebhookIn, config: WebhookConfig, now: datetime
) -> WebhookCreated:
    code = _node(principal)
    _check_destination(body.url, config)
    if await repo.count_of_node(session, code) >= config.endpoints_per_node:
        raise ApiError(
            409, "webhook_limit_reached", f"a node may register {config.endpoints_per_node} webhooks; delete one first"
        )
    secret = body.secret or new_secret()
    endpoint = WebhookEndpoint(
        id=str(uuid.uuid4()),
        agency_code=code,
        url=body.url,
        secret_sealed=config.sealer.seal(secret),
        event_types=[t.value for t in body.event_types],
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await _audit(
        session,
        principal,
        "agency.webhook_create",
        endpoint,
        now,
        url=_origin(body.url),
        event_types=endpoint.event_types,
    )
    log.info("webhook_registered", webhook_id=endpoint.id, event_types=endpoint.event_types)
    return WebhookCreated(**_view(endpoint).model_dump(), secret=secret)


async def list_endpoints(session: AsyncSession, principal: Principal) -> WebhookList:
    return WebhookList(items=[_view(e) for e in await repo.endpoints_of_node(session, _node(principal))])


async def get_endpoint(session: AsyncSession, principal: Principal, endpoint_id: str) -> WebhookView:
    return _view(await _endpoint(session, principal, endpoint_id))


async def update_endpoint(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: str,
    body: WebhookPatch,
    config: WebhookConfig,
    now: datetime,
) -> WebhookView:
    endpoint = await _endpoint(session, principal, endpoint_id)
    changed: list[str] = []
    if body.url is not None and body.url != endpoint.url:
        _check_destination(body.url, config)
        endpoint.url = body.url
        changed.append("url")
    if body.event_types is not None and [t.value for t in body.event_types] != endpoint.event_types:
        endpoint.event_types = [t.value for t in body.event_types]
        changed.append("event_types")
    if body.secret is not None:
        endpoint.secret_sealed = config.sealer.seal(body.secret)
        changed.append("secret")
    if changed:
        endpoint.updated_at = now
        await _audit(
            session,
            principal,
            "agency.webhook_update",
            endpoint,
            now,
            changed=changed,
            url=_origin(endpoint.url),
            event_types=endpoint.event_types,
        )
        log.info("webhook_updated", webhook_id=endpoint.id, changed=changed)
    return _view(endpoint)


async def delete_endpoint(session: AsyncSession, principal: Principal, endpoint_id: str, now: datetime) -> None:
    """Delete the endpoint; its deliveries and their attempts go with it."""
    endpoint = await _endpoint(session, principal, endpoint_id)
    await _audit(session, principal, "agency.webhook_delete", endpoint, now, url=_origin(endpoint.url))
    await session.delete(endpoint)
    log.info("webhook_deleted", webhook_id=endpoint.id)


async def deliveries(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: str,
    *,
    status: DeliveryStatus | None,
    tracking_id: str | None,
    page: Page,
) -> DeliveryPage:
    endpoint = await _endpoint(session, principal, endpoint_id)
    return await _delivery_page(session, [endpoint.id], status=status, tracking_id=tracking_id, page=page)


async def node_deliveries(
    session: AsyncSession,
    principal: Principal,
    *,
    status: DeliveryStatus | None,
    tracking_id: str | None,
    page: Page,
) -> DeliveryPage:
    endpoints = await repo.endpoints_of_node(session, _node(principal))
    ids = [e.id for e in endpoints]
    return await _delivery_page(session, ids, status=status, tracking_id=tracking_id, page=page)


async def _delivery_page(
    session: AsyncSession,
    endpoint_ids: list[str],
    *,
    status: DeliveryStatus | None,
    tracking_id: str | None,
    page: Page,
) -> DeliveryPage:
    rows = await repo.delivery_page(session, endpoint_ids, status=status, tracking_id=tracking_id, page=page)
    shown = rows[: page.limit]
    attempts = await repo.attempts_of(session, [d.id for d in shown])
    return DeliveryPage(
        items=[_delivery_view(d, attempts[d.id]) for d in shown],
        next_offset=page.next_offset(len(rows)),
    )


async def delivery(session: AsyncSession, principal: Principal, endpoint_id: str, delivery_id: int) -> DeliveryView:
    endpoint = await _endpoint(session, principal, endpoint_id)
    found = await repo.delivery_of_endpoint(session, endpoint.id, delivery_id)
    if found is None:
        raise not_found("delivery")
    return _delivery_view(found, (await repo.attempts_of(session, [found.id]))[found.id])


async def redeliver(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: str,
    delivery_id: int,
    config: WebhookConfig,
    now: datetime,
) -> DeliveryView:
    """Send a delivery again now, with its body and ids unchanged, retried for a full max age from now.

    A delivered or failed one is pending again; a pending one waiting to retry is due at once. Either way it still
    waits behind an earlier pending delivery of its case. One a sender holds right now answers 409.
    """
    endpoint = await _endpoint(session, principal, endpoint_id)
    found = await repo.delivery_of_endpoint(session, endpoint.id, delivery_id, lock=True)
    if found is None:
        raise not_found("delivery")
    if found.leased_until is not None and found.leased_until > now:
        raise ApiError(409, "delivery_in_flight", "this delivery is being sent right now; look again shortly")
    previous = found.status
    found.status = DeliveryStatus.pending.value
    found.next_attempt_at = now
    found.leased_until = None
    found.finished_at = None
    found.give_up_at = max(found.give_up_at, now + config.max_age)
    wake_sender_on_commit(session)
    await _audit(
        session,
        principal,
        "agency.webhook_redeliver",
        endpoint,
        now,
        delivery_id=found.id,
        previous_status=previous,
        tracking_id=found.tracking_id,
        event_type=found.event_type,
    )
    log.info("webhook_redelivery_requested", webhook_id=endpoint.id, delivery_id=found.id, previous_status=previous)
    return _delivery_view(found, (await repo.attempts_of(session, [found.id]))[found.id])


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    endpoint: WebhookEndpoint,
    now: datetime,
    **details: object,
) -> None:
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=principal.actor,
            action=action,
            target_type=audit.Target.webhook,
            target_id=endpoint.id,
            at=now,
            details={"key_id": principal.key_id, "agency_code": endpoint.agency_code, **details},
        ),
    )
