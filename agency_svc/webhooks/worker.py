"""The sender: picks due deliveries, POSTs each one signed, and records the attempt.

Up to `webhook_batch` deliveries are in flight at once. Whenever a slot is free, due deliveries are claimed (each
leased: `next_attempt_at` and `leased_until` pushed out) in one short transaction, shared out fairly
(repository.due): no endpoint gets more than `webhook_in_flight_per_endpoint` in flight, no node more than
`webhook_in_flight_per_node`, counting what other replicas hold, so an endpoint that hangs until the timeout holds
its own share and nothing else. The claim re-checks each row, so two replicas never take the same delivery.
Each POST runs on its own with no transaction open; each outcome is written in a transaction of its own. A 2xx
answer delivers; anything else is retried after a backoff with full jitter until an attempt fails past the
delivery's `give_up_at`, which fails it. Each POST passes the destination guard (destinations.py): a host that
resolves into a refused network makes a failed attempt ("refused: ... is in a blocked network"), retried the same.
Everything lives in the database, so a restart resumes where it was. A sender that dies mid-attempt leaves a lease
that runs out, and the delivery is sent again: receivers see a delivery at least once and may drop a repeat by its
`Simpul-Event-Id`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event, select

from agency_svc.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from agency_svc.settings import AgencySettings
from agency_svc.webhooks import repository as repo
from agency_svc.webhooks.destinations import BlockedDestination, DestinationPolicy, GuardedTransport
from agency_svc.webhooks.fanout import WAKE_FLAG
from agency_svc.webhooks.metrics import WEBHOOK_DELIVERIES
from agency_svc.webhooks.signing import USER_AGENT, headers
from shared.background import finish_even_if_cancelled, full_jitter, poll_until_stopped, wake_on_commit
from shared.crypto import Sealer
from shared.logging import bind_tracking_id, clear_context, get_logger
from shared.runtime import Runtime

log = get_logger(__name__)

PURGE_EVERY = timedelta(hours=1)
MAX_ERROR = 500


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    tracking_id: str
    event_id: str
    event_type: str
    body: bytes
    url: str
    secret: str


@dataclass(frozen=True)
class Attempt:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:MAX_ERROR]


class Pusher:
    def __init__(self, settings: AgencySettings, sealer: Sealer, *, transport: httpx.AsyncBaseTransport | None = None):
        """`transport` sends what the destination guard lets through (by default, straight to the vetted address)."""
        self.settings = settings
        self.sealer = sealer
        self.policy = DestinationPolicy(settings.webhook_allowed_network_list())
        self.transport = transport
        self.wake = asyncio.Event()
        self.shares = repo.Shares(
            total=settings.webhook_batch,
            per_endpoint=settings.webhook_in_flight_per_endpoint,
            per_node=settings.webhook_in_flight_per_node,
        )
        self._sending: set[asyncio.Task[None]] = set()
        self._purged_at: datetime | None = None

    async def run(self, runtime: Runtime[Any]) -> None:
        """Send until the service stops, woken by new deliveries or every poll interval for due retries."""
        on_commit = wake_on_commit(WAKE_FLAG, self.wake)
        event.listen(runtime.db.sync_session_class, "after_commit", on_commit)
        try:
            async with httpx.AsyncClient(
                transport=GuardedTransport(self.policy, self.transport),
                timeout=self.settings.webhook_timeout_seconds,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            ) as client:
                try:
                    await poll_until_stopped(
                        lambda: self.run_once(runtime, client),
                        stopping=runtime.stopping,
                        wake=self.wake,
                        interval=self.settings.webhook_poll_interval,
                        name="webhook_sender",
                    )
                finally:
                    await self._settle()
        finally:
            event.remove(runtime.db.sync_session_class, "after_commit", on_commit)

    async def run_once(self, runtime: Runtime[Any], client: httpx.AsyncClient) -> bool:
        """Fill the free slots with due deliveries, each sent on its own; whether every slot was filled (more may be
        due now). A delivery that ends frees its slot and wakes the sender."""
        now = runtime.clock.now()
        await finish_even_if_cancelled(self._purge(runtime, now))
        free = self.shares.total - len(self._sending)
        if free <= 0:
            return False
        claimed = await finish_even_if_cancelled(self._claim(runtime, now, free))
        for delivery_id in claimed:
            task = asyncio.create_task(self._deliver(runtime, client, delivery_id))
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return len(claimed) == free

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self.wake.set()

    async def _settle(self) -> None:
        """Let the deliveries under way end (each within the timeout); cut them short if cancelled meanwhile."""
        try:
            await asyncio.gather(*self._sending, return_exceptions=True)
        except asyncio.CancelledError:
            for task in self._sending:
                task.cancel()
            await asyncio.gather(*self._sending, return_exceptions=True)
            raise

    async def _claim(self, runtime: Runtime[Any], now: datetime, free: int) -> list[int]:
        lease_until = now + timedelta(seconds=self.settings.webhook_lease_seconds)
        async with runtime.db.session() as session, session.begin():
            due = await repo.due(session, now, free, self.shares)
            return await repo.claim(session, due, now, lease_until) if due else []

    async def _purge(self, runtime: Runtime[Any], now: datetime) -> None:
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        before = now - timedelta(days=self.settings.webhook_retention_days)
        purged, batch = 0, repo.PURGE_BATCH
        while batch == repo.PURGE_BATCH:  # a transaction per batch
            async with runtime.db.session() as session, session.begin():
                batch = await repo.purge_finished(session, before)
            purged += batch
        if purged:
            log.info("webhook_deliveries_purged", count=purged)

    async def _deliver(self, runtime: Runtime[Any], client: httpx.AsyncClient, delivery_id: int) -> None:
        try:
            try:
                outgoing = await finish_even_if_cancelled(self._load(runtime, delivery_id))
            except ValueError as exc:  # the secret opens under no key this service holds
                attempt = Attempt(runtime.clock.now(), None, _error_text(exc), 0)
                await finish_even_if_cancelled(self._record(runtime, delivery_id, attempt))
                return
            if outgoing is None:
                return
            bind_tracking_id(outgoing.tracking_id)
            attempt = await self._send(runtime, client, outgoing)
            await finish_even_if_cancelled(self._record(runtime, delivery_id, attempt))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The lease runs out and the delivery is tried again; the others of the batch go on.
            log.error("webhook_delivery_broken", delivery_id=delivery_id, error=_error_text(exc))
        finally:
            clear_context()

    async def _load(self, runtime: Runtime[Any], delivery_id: int) -> Outgoing | None:
        d, e = WebhookDelivery, WebhookEndpoint
        stmt = (
            select(d.tracking_id, d.event_id, d.event_type, d.payload, e.url, e.secret_sealed)
            .join(e, e.id == d.endpoint_id)
            .where(d.id == delivery_id, d.status == DeliveryStatus.pending.value)
        )
        async with runtime.db.session() as session:
            row = (await session.execute(stmt)).first()
            await session.rollback()
        if row is None:
            return None
        return Outgoing(
            delivery_id=delivery_id,
            tracking_id=row.tracking_id,
            event_id=row.event_id,
            event_type=row.event_type,
            body=row.payload.encode(),
            url=row.url,
            secret=self.sealer.open(row.secret_sealed),
        )

    async def _send(self, runtime: Runtime[Any], client: httpx.AsyncClient, out: Outgoing) -> Attempt:
        attempted_at = runtime.clock.now()
        signed = headers(
            secret=out.secret,
            # The receiver checks the timestamp against its own clock: always the real time, whatever schedules us.
            timestamp=int(time.time()),
            body=out.body,
            event_id=out.event_id,
            event_type=out.event_type,
            delivery_id=out.delivery_id,
        )
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with (
                asyncio.timeout(self.settings.webhook_timeout_seconds),
                client.stream("POST", out.url, content=out.body, headers=signed) as response,
            ):
                status = response.status_code  # the body is never read
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            error = f"no answer within {self.settings.webhook_timeout_seconds:g} s"
        except BlockedDestination as exc:
            error = str(exc)
        except Exception as exc:
            error = _error_text(exc)
        if status is not None and not 200 <= status < 300:
            error = f"HTTP {status}"
        return Attempt(attempted_at, status, error, round((time.perf_counter() - started) * 1000))

    async def _record(self, runtime: Runtime[Any], delivery_id: int, attempt: Attempt) -> None:
        now = runtime.clock.now()
        async with runtime.db.session() as session, session.begin():
            d = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if d is None or d.status != DeliveryStatus.pending.value:
                return  # deleted with its endpoint meanwhile
            session.add(
                WebhookAttempt(
                    delivery_id=d.id,
                    attempted_at=attempt.attempted_at,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                )
            )
            d.attempts += 1
            d.last_status_code = attempt.status_code
            d.last_error = attempt.error
            d.leased_until = None
            outcome = self._outcome(d, attempt, now)
            if d.next_attempt_at is not None:
                await repo.hold_behind(session, d, d.next_attempt_at)
            else:
                await repo.release_behind(session, d, now)
        WEBHOOK_DELIVERIES.labels(runtime.service, outcome).inc()
        fields: dict[str, Any] = {
            "delivery_id": delivery_id,
            "attempts": d.attempts,
            "status_code": attempt.status_code,
        }
        if attempt.ok:
            log.info("webhook_delivered", **fields)
        else:
            log.warning("webhook_attempt_failed", outcome=outcome, error=attempt.error, **fields)

    def _outcome(self, d: WebhookDelivery, attempt: Attempt, now: datetime) -> str:
        if attempt.ok:
            d.status, d.finished_at, d.next_attempt_at = DeliveryStatus.delivered.value, now, None
            return "delivered"
        if now >= d.give_up_at:
            d.status, d.finished_at, d.next_attempt_at = DeliveryStatus.failed.value, now, None
            return "failed"
        delay = full_jitter(
            d.attempts, self.settings.webhook_retry_base_seconds, self.settings.webhook_retry_max_seconds
        )
        d.next_attempt_at = now + timedelta(seconds=delay)
        return "retry"
