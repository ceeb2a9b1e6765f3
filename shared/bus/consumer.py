"""Durable pull consumers that are idempotent and ack only after commit.

A fetched batch is handled in one transaction: its event ids are recorded in `processed_events` with one
insert, which tells the new events from repeats (skipped and acked), and the new ones are handled in order.
Should a handler fail, that transaction is rolled back and the batch is handled again with each message under
its own savepoint (its event id recorded inside it), so the failure rolls back only its own message, which is
nak'ed with backoff and, after `max_deliver` deliveries, dead-lettered. A malformed or unknown event is
dead-lettered at once, and so is a forged one: its type does not match the subject it arrived on, or its source is
not the service the topology names as its publisher (shared.events.origin). A database failure naks the whole
batch and never dead-letters: the events wait for the database to come back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Generic, TypeVar

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.handlers import Handlers
from shared.bus.nats_bus import Bus
from shared.clock import utcnow
from shared.db.availability import database_unavailable
from shared.db.dialect import dialect_of, insert_ignore
from shared.db.engine import Database
from shared.db.kit_tables import KitTables
from shared.db.results import rows_affected
from shared.events import Envelope, EventData, MalformedEvent, decode_event
from shared.events.origin import ForgedEvent, check_origin
from shared.events.topology import DURABLES, ROUTES, Durable, consumed_by, filter_subjects
from shared.logging import bind_tracking_id, clear_context, get_logger
from shared.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_PENDING,
    DEAD_LETTERS,
    EVENTS_CONSUMED,
    EVENTS_FORGED,
    REDELIVERIES,
)

log = get_logger(__name__)

LAG_REPORT_INTERVAL_S = 2.0
"""How often each durable's lag is read from JetStream (one consumer-info request) for /metrics."""

C = TypeVar("C")

INFRA_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    ConnectionError,
    OSError,
    TimeoutError,
)


def infra_failure(exc: BaseException) -> bool:
    """The database or the network failed, not the event: the batch waits, and nothing is dead-lettered for it."""
    return isinstance(exc, INFRA_ERRORS) or database_unavailable(exc)


class _HandlerFailed(Exception):
    """A handler failed while the batch was handled together: it is handled again, a savepoint per message."""


class RetryLater(Exception):
    """A handler cannot act yet (for example, an event it depends on has not arrived)."""

    def __init__(self, reason: str, delay: float = 1.0):
        super().__init__(reason)
        self.delay = delay


@dataclass(frozen=True)
class Subscription(Generic[C]):
    """A durable and its handlers; its filter is the subjects of the contracts they handle.

    For a durable of the topology, the handlers must cover exactly the events the topology routes to it.
    """

    durable: Durable
    handlers: Handlers[C]
    ack_wait: float = 10.0

    def __post_init__(self) -> None:
        if self.durable in DURABLES:
            routed = {route.contract for route in consumed_by(self.durable)}
            if self.handlers.contracts != routed:
                missing = sorted(c.event_type for c in routed - self.handlers.contracts)
                extra = sorted(c.event_type for c in self.handlers.contracts - routed)
                raise ValueError(f"{self.durable.name}: handlers missing for {missing}, not routed here: {extra}")

    @property
    def name(self) -> str:
        return self.durable.name

    @property
    def stream(self) -> str:
        return self.durable.stream

    @property
    def subjects(self) -> list[str]:
        if self.durable in DURABLES:
            return filter_subjects(self.durable)
        return [route.subject for route in ROUTES if route.contract in self.handlers.contracts]


class ConsumerRunner(Generic[C]):
    def __init__(
        self,
        *,
        service: str,
        bus: Bus,
        db: Database,
        kit: KitTables,
        subscription: Subscription[C],
        context: C,
        batch: int = 64,
        max_deliver: int = 5,
    ):
        self.service = service
        self.bus = bus
        self.db = db
        self.kit = kit
        self.sub = subscription
        self.context = context
        self.batch = batch
        self.max_deliver = max_deliver
        self._stopping = asyncio.Event()
        self._lag_due = 0.0

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                if not await self.bus.wait_ready_or(self._stopping):
                    return
                psub = await self._bind()
                try:
                    await self._loop(psub)
                finally:
                    await _quietly(psub.unsubscribe())  # type: ignore[attr-defined]
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer_restart", durable=self.sub.name, error=repr(exc))
                await self._sleep(1.0)

    async def _bind(self) -> object:
        config = ConsumerConfig(
            durable_name=self.sub.name,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.sub.ack_wait,
            max_deliver=-1,
            max_ack_pending=4096,
            filter_subjects=self.sub.subjects if len(self.sub.subjects) > 1 else None,
            filter_subject=self.sub.subjects[0] if len(self.sub.subjects) == 1 else None,
        )
        await self.bus.js.add_consumer(self.sub.stream, config)
        return await self.bus.js.pull_subscribe_bind(durable=self.sub.name, stream=self.sub.stream)

    async def _loop(self, psub: object) -> None:
        while not self._stopping.is_set():
            await self._report_lag()
            try:
                msgs: list[Msg] = await psub.fetch(self.batch, timeout=1.0)  # type: ignore[attr-defined]
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            await self.handle_batch(msgs)

    async def _report_lag(self) -> None:
        """Refresh the lag gauges, at most every LAG_REPORT_INTERVAL_S."""
        now = asyncio.get_running_loop().time()
        if now < self._lag_due:
            return
        self._lag_due = now + LAG_REPORT_INTERVAL_S
        try:
            info = await self.bus.js.consumer_info(self.sub.stream, self.sub.name)
        except Exception as exc:
            log.debug("consumer_info_failed", durable=self.sub.name, error=repr(exc))
            return
        CONSUMER_PENDING.labels(self.service, self.sub.name).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(self.service, self.sub.name).set(info.num_ack_pending or 0)

    async def handle_batch(self, msgs: list[Msg]) -> None:
        decoded: list[tuple[Msg, Envelope, EventData]] = []
        for msg in msgs:
            if msg.metadata.num_delivered > 1:
                REDELIVERIES.labels(self.service, self.sub.name).inc()
            try:
                envelope, data = decode_event(msg.data)
            except MalformedEvent as exc:
                await self.dead_letter(msg, str(exc))
                continue
            try:
                check_origin(msg.subject, envelope, data)
            except ForgedEvent as exc:
                await self._forged(msg, envelope, exc)
                continue
            decoded.append((msg, envelope, data))
        if not decoded:
            return
        heartbeat = asyncio.create_task(self._keep_in_progress([m for m, _, _ in decoded]))  # noqa: RUF006
        try:
            await self._process(decoded)
        finally:
            heartbeat.cancel()

    async def _forged(self, msg: Msg, envelope: Envelope, exc: ForgedEvent) -> None:
        """Act on nothing in it: dead-letter it, and say so where an operator looks."""
        EVENTS_FORGED.labels(self.service, self.sub.name).inc()
        log.error(
            "event_forged",
            durable=self.sub.name,
            subject=msg.subject,
            event_type=envelope.type,
            source=envelope.source,
            event_id=str(envelope.id),
            error=str(exc),
        )
        await self.dead_letter(msg, f"forged: {exc}")

    async def _keep_in_progress(self, msgs: list[Msg]) -> None:
        """Tell JetStream the batch is still being worked on, so a slow batch is not redelivered meanwhile."""
        while True:
            await asyncio.sleep(self.sub.ack_wait / 2)
            for msg in msgs:
                await _quietly(msg.in_progress())

    async def _process(self, decoded: list[tuple[Msg, Envelope, EventData]]) -> None:
        try:
            failures = await self._process_together(decoded)
            if failures is None:
                failures = await self._process_apart(decoded)
        except Exception as exc:
            if not infra_failure(exc):
                raise
            log.warning("consumer_batch_infra_failure", durable=self.sub.name, error=repr(exc))
            for msg, _, _ in decoded:
                await _quietly(msg.nak(delay=2.0))
            EVENTS_CONSUMED.labels(self.service, self.sub.name, "deferred").inc(len(decoded))
            await self._sleep(1.0)
            return
        for i, (msg, envelope, _) in enumerate(decoded):
            failure = failures.get(i)
            if failure is None:
                await _quietly(msg.ack())
                EVENTS_CONSUMED.labels(self.service, self.sub.name, "ok").inc()
            else:
                await self._failed(msg, envelope, failure)

    async def _process_together(
        self, decoded: list[tuple[Msg, Envelope, EventData]]
    ) -> dict[int, BaseException] | None:
        """The batch in one transaction, without savepoints: no failures, or None (all rolled back) if a handler
        failed."""
        try:
            async with self.db.session() as session, session.begin():
                fresh = await self._claim(session, [str(envelope.id) for _, envelope, _ in decoded])
                for _, envelope, data in decoded:
                    event_id = str(envelope.id)
                    if event_id not in fresh:
                        continue
                    fresh.discard(event_id)  # delivered twice in one batch: handled once
                    bind_tracking_id(envelope.correlation_id)
                    try:
                        await self.sub.handlers.handle(session, envelope, data, self.context)
                    except Exception as exc:
                        if infra_failure(exc):
                            raise
                        raise _HandlerFailed from exc
                    finally:
                        clear_context()
        except _HandlerFailed:
            return None
        return {}

    async def _process_apart(self, decoded: list[tuple[Msg, Envelope, EventData]]) -> dict[int, BaseException]:
        """The batch in one transaction, each message under a savepoint of its own: the failures, by position."""
        failures: dict[int, BaseException] = {}
        async with self.db.session() as session, session.begin():
            for i, (_, envelope, data) in enumerate(decoded):
                try:
                    async with session.begin_nested():
                        await self._handle_one(session, envelope, data)
                except Exception as exc:
                    if infra_failure(exc):
                        raise
                    failures[i] = exc
                finally:
                    clear_context()
        return failures

    async def _claim(self, session: AsyncSession, event_ids: list[str]) -> set[str]:
        """Record the events as processed; those that were not already."""
        table = self.kit.processed_events
        now = utcnow()
        rows = [{"consumer": self.sub.name, "event_id": e, "processed_at": now} for e in dict.fromkeys(event_ids)]
        claim = insert_ignore(dialect_of(session), table).values(rows).returning(table.c.event_id)
        return set((await session.execute(claim)).scalars())

    async def _handle_one(self, session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        claim = insert_ignore(dialect_of(session), self.kit.processed_events).values(
            consumer=self.sub.name, event_id=str(envelope.id), processed_at=utcnow()
        )
        result = await session.execute(claim)
        if rows_affected(result) == 0:
            return
        bind_tracking_id(envelope.correlation_id)
        await self.sub.handlers.handle(session, envelope, data, self.context)

    async def _failed(self, msg: Msg, envelope: Envelope, exc: BaseException) -> None:
        delivered = msg.metadata.num_delivered
        if isinstance(exc, RetryLater) and delivered < self.max_deliver * 4:
            await _quietly(msg.nak(delay=exc.delay))
            EVENTS_CONSUMED.labels(self.service, self.sub.name, "retry_later").inc()
            return
        if delivered >= self.max_deliver:
            await self.dead_letter(msg, f"{type(exc).__name__}: {exc}")
            return
        log.warning(
            "event_failed",
            durable=self.sub.name,
            event_type=envelope.type,
            event_id=str(envelope.id),
            delivered=delivered,
            error=repr(exc),
        )
        EVENTS_CONSUMED.labels(self.service, self.sub.name, "failed").inc()
        await _quietly(msg.nak(delay=min(2.0 ** (delivered - 1), 30.0)))

    async def dead_letter(self, msg: Msg, error: str) -> None:
        meta = msg.metadata
        headers = {
            "Nats-Msg-Id": f"dlq-{self.sub.name}-{meta.sequence.stream}",
            "Simpul-Error": error[:2000],
            "Simpul-Durable": self.sub.name,
            "Simpul-Service": self.service,
            "Simpul-Subject": msg.subject,
            "Simpul-Stream": meta.stream,
            "Simpul-Stream-Seq": str(meta.sequence.stream),
            "Simpul-Deliveries": str(meta.num_delivered),
            "Simpul-Failed-At": utcnow().isoformat(),
        }
        try:
            await self.bus.publish(f"dlq.{self.sub.name}", msg.data, headers=headers)
        except Exception as exc:
            log.error("dead_letter_publish_failed", durable=self.sub.name, error=repr(exc))
            await _quietly(msg.nak(delay=5.0))
            return
        await _quietly(msg.term())
        DEAD_LETTERS.labels(self.service, self.sub.name).inc()
        EVENTS_CONSUMED.labels(self.service, self.sub.name, "dead_lettered").inc()
        log.error("event_dead_lettered", durable=self.sub.name, subject=msg.subject, error=error[:500])

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass


async def _quietly(aw: Awaitable[None]) -> None:
    try:
        await aw
    except Exception as exc:
        log.debug("ack_failed", error=repr(exc))
