"""Queries on webhook endpoints, deliveries and attempts. Nothing here commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from agency_svc.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shared.db.dialect import dialect_of, insert_ignore
from shared.db.results import rows_affected
from shared.http.paging import Page

_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_PENDING = DeliveryStatus.pending.value
PURGE_BATCH = 1000


async def endpoints_of_nodes(session: AsyncSession, codes: Sequence[str]) -> Sequence[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.agency_code.in_(codes)).order_by(WebhookEndpoint.id)
    return (await session.execute(stmt)).scalars().all()


async def endpoints_of_node(session: AsyncSession, agency_code: str) -> Sequence[WebhookEndpoint]:
    stmt = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.agency_code == agency_code)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def count_of_node(session: AsyncSession, agency_code: str) -> int:
    stmt = select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.agency_code == agency_code)
    return int((await session.execute(stmt)).scalar_one())


async def endpoint_of_node(session: AsyncSession, agency_code: str, endpoint_id: str) -> WebhookEndpoint | None:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    return endpoint if endpoint is not None and endpoint.agency_code == agency_code else None


async def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert deliveries; one an endpoint already has for the same event is left as it is."""
    stmt = insert_ignore(dialect_of(session), _DELIVERIES, ["endpoint_id", "event_id"])
    await session.execute(stmt, rows)


@dataclass(frozen=True)
class Shares:
    """How many deliveries may be in flight at once: in all (this sender), per endpoint and per node."""

    total: int
    per_endpoint: int
    per_node: int


async def _in_flight(session: AsyncSession, now: datetime) -> tuple[Counter[str], Counter[str]]:
    """Deliveries some sender holds right now, counted per endpoint and per node."""
    d, e = WebhookDelivery, WebhookEndpoint
    stmt = (
        select(d.endpoint_id, e.agency_code, func.count())
        .join(e, e.id == d.endpoint_id)
        .where(d.status == _PENDING, d.leased_until > now)
        .group_by(d.endpoint_id, e.agency_code)
    )
    endpoints: Counter[str] = Counter()
    nodes: Counter[str] = Counter()
    for endpoint_id, node, count in (await session.execute(stmt)).all():
        endpoints[endpoint_id] += count
        nodes[node] += count
    return endpoints, nodes


async def due(session: AsyncSession, now: datetime, free: int, shares: Shares) -> list[int]:
    """Up to `free` pending deliveries whose time has come and that no earlier pending delivery of their case holds
    back, shared out fairly: each endpoint's first before any endpoint's second, and no endpoint or node past its
    share of deliveries in flight (those other senders hold count too).
    """
    busy_endpoints, busy_nodes = await _in_flight(session, now)
    full_endpoints = [k for k, n in busy_endpoints.items() if n >= shares.per_endpoint]
    full_nodes = [k for k, n in busy_nodes.items() if n >= shares.per_node]
    d, e = WebhookDelivery, WebhookEndpoint
    earlier = aliased(WebhookDelivery)
    held_back = exists().where(
        earlier.endpoint_id == d.endpoint_id,
        earlier.tracking_id == d.tracking_id,
        earlier.id < d.id,
        earlier.status == _PENDING,
    )
    turn = func.row_number().over(partition_by=d.endpoint_id, order_by=(d.next_attempt_at, d.id)).label("turn")
    ready = (
        select(d.id, d.endpoint_id, e.agency_code, d.next_attempt_at, turn)
        .join(e, e.id == d.endpoint_id)
        .where(
            d.status == _PENDING,
            d.next_attempt_at <= now,
            ~held_back,
            d.endpoint_id.not_in(full_endpoints),
            e.agency_code.not_in(full_nodes),
        )
        .subquery()
    )
    window = free * shares.per_endpoint + shares.per_endpoint * len(busy_endpoints)
    stmt = (
        select(ready.c.id, ready.c.endpoint_id, ready.c.agency_code)
        .where(ready.c.turn <= shares.per_endpoint)
        .order_by(ready.c.turn, ready.c.next_attempt_at, ready.c.id)
        .limit(window)
    )
    picked: list[int] = []
    for delivery_id, endpoint_id, node in (await session.execute(stmt)).all():
        if busy_endpoints[endpoint_id] >= shares.per_endpoint or busy_nodes[node] >= shares.per_node:
            continue
        picked.append(delivery_id)
        busy_endpoints[endpoint_id] += 1
        busy_nodes[node] += 1
        if len(picked) == free:
            break
    return picked


async def claim(session: AsyncSession, ids: list[int], now: datetime, lease_until: datetime) -> list[int]:
    """Hold due deliveries until `lease_until`; only those still due are taken (the update re-checks)."""
    t = _DELIVERIES
    stmt = (
        update(t)
        .where(t.c.id.in_(ids), t.c.status == _PENDING, t.c.next_attempt_at <= now)
        .values(next_attempt_at=lease_until, leased_until=lease_until)
        .returning(t.c.id)
    )
    return list((await session.execute(stmt)).scalars().all())


def _behind(head: WebhookDelivery) -> list[Any]:
    """The later pending deliveries of the head's case to its endpoint that no sender holds."""
    t = _DELIVERIES
    return [
        t.c.endpoint_id == head.endpoint_id,
        t.c.tracking_id == head.tracking_id,
        t.c.id > head.id,
        t.c.status == _PENDING,
        t.c.leased_until.is_(None),
    ]


async def hold_behind(session: AsyncSession, head: WebhookDelivery, until: datetime) -> None:
    """Make the deliveries waiting behind `head` due no sooner than its retry, so no sender looks at them before."""
    t = _DELIVERIES
    await session.execute(update(t).where(*_behind(head), t.c.next_attempt_at < until).values(next_attempt_at=until))


async def release_behind(session: AsyncSession, head: WebhookDelivery, now: datetime) -> None:
    """`head` is done: the deliveries that waited behind it are due now."""
    t = _DELIVERIES
    await session.execute(update(t).where(*_behind(head), t.c.next_attempt_at > now).values(next_attempt_at=now))


async def delivery_page(
    session: AsyncSession,
    endpoint_ids: Sequence[str],
    *,
    status: DeliveryStatus | None,
    tracking_id: str | None,
    page: Page,
) -> Sequence[WebhookDelivery]:
    """The endpoints' deliveries, newest first; one row more than the page tells whether another page exists."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id.in_(endpoint_ids))
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status.value)
    if tracking_id is not None:
        stmt = stmt.where(WebhookDelivery.tracking_id == tracking_id)
    stmt = stmt.order_by(WebhookDelivery.id.desc()).offset(page.offset).limit(page.limit + 1)
    return (await session.execute(stmt)).scalars().all()


async def delivery_of_endpoint(
    session: AsyncSession, endpoint_id: str, delivery_id: int, *, lock: bool = False
) -> WebhookDelivery | None:
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=lock or None)
    return delivery if delivery is not None and delivery.endpoint_id == endpoint_id else None


async def attempts_of(session: AsyncSession, delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return found
    stmt = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.id)
    )
    for attempt in (await session.execute(stmt)).scalars():
        found[attempt.delivery_id].append(attempt)
    return found


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    """Delete up to one batch of deliveries (with their attempts) finished before `before`."""
    old = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.finished_at < before, WebhookDelivery.status != _PENDING)
        .limit(PURGE_BATCH)
    )
    ids = list((await session.execute(old)).scalars().all())
    if not ids:
        return 0
    return rows_affected(await session.execute(delete(_DELIVERIES).where(_DELIVERIES.c.id.in_(ids))))
