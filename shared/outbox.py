"""The transactional outbox. Events are rows written with the state change; a relay publishes them.

A crash between publish and marking repeats the publish; JetStream drops the repeat by `Nats-Msg-Id`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.background import Backoff, poll_until_stopped
from shared.bus.nats_bus import Bus, OutgoingMessage, Published
from shared.clock import utcnow
from shared.db.engine import Database
from shared.events import Envelope, EventData, encode_event, new_event
from shared.events.topology import route_of
from shared.logging import get_logger
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG

log = get_logger(__name__)


class Outbox:
    """Writes events into the caller's transaction; only those the topology lets its service publish."""

    def __init__(self, table: Table, source: str):
        self.table = table
        self.source = source

    def envelope(
        self, data: EventData, *, correlation_id: str | None = None, causation_id: uuid.UUID | None = None
    ) -> Envelope:
        try:
            publisher = route_of(type(data), data.subject()).publisher
        except KeyError:
            raise ValueError(f"{data.event_type} has no route in shared/events/topology.py") from None
        if publisher != self.source:
            raise ValueError(f"{data.event_type} is published by {publisher}, not by {self.source}")
        return new_event(
            data,
            source=self.source,
            correlation_id=correlation_id or data.tracking_id_or_none(),
            causation_id=causation_id,
        )

    def row(self, envelope: Envelope, data: EventData) -> dict[str, Any]:
        return {
            "event_id": str(envelope.id),
            "subject": data.subject(),
            "payload": encode_event(envelope),
            "created_at": envelope.occurred_at,
        }

    async def add(
        self,
        conn: AsyncSession | AsyncConnection,
        *events: EventData,
        causation_id: uuid.UUID | None = None,
    ) -> list[Envelope]:
        envelopes = [self.envelope(e, causation_id=causation_id) for e in events]
        if envelopes:
            await conn.execute(insert(self.table), [self.row(env, e) for env, e in zip(envelopes, events, strict=True)])
        return envelopes


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        table: Table,
        *,
        service: str,
        batch: int = 500,
        poll_interval: float = 0.5,
        retention: timedelta = timedelta(days=1),
    ):
        self.db = db
        self.bus = bus
        self.table = table
        self.service = service
        self.batch = batch
        self.poll_interval = poll_interval
        self.retention = retention
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._rounds = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Publish what is written until stopped, woken by commits or every poll interval; then what is left."""
        await poll_until_stopped(
            self._round,
            stopping=self._stop,
            wake=self._wake,
            interval=self.poll_interval,
            name="outbox_relay",
            backoff=Backoff(0.2, 5.0),
        )
        await self._final_drain()

    async def _round(self) -> bool:
        """Publish one batch; True when more may be waiting (a full batch, or NATS to look for again)."""
        try:
            if not self.bus.is_connected:
                # Nothing can be published now: keep the backlog gauge true while it grows, and look again soon.
                await self._report_backlog()
                await self._until_connected(1.0)
                return True
            if not await self.bus.wait_ready_or(self._stop):
                return True  # stopping
            sent = await self.drain_once()
            self._rounds += 1
            if self._rounds % 2000 == 0:
                await self.purge()
            return sent >= self.batch
        except Exception:
            await self._report_backlog()
            raise

    async def drain_once(self) -> int:
        t = self.table
        pending = (
            select(t.c.id, t.c.event_id, t.c.subject, t.c.payload)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(self.batch)
        )
        if self.db.is_sqlite:  # one process writes a SQLite file: no other relay to keep out
            async with self.db.engine.connect() as conn:
                rows = (await conn.execute(pending)).all()
                await conn.rollback()
            if not rows:
                OUTBOX_BACKLOG.labels(self.service).set(0)
                return 0
            done, failed = await self._publish(rows)
            async with self.db.engine.begin() as conn:
                await self._mark(conn, done, failed)
        else:
            # The rows stay locked while they are published: another replica's relay skips them, not publishes them too.
            async with self.db.engine.begin() as conn:
                rows = (await conn.execute(pending.with_for_update(skip_locked=True))).all()
                if not rows:
                    OUTBOX_BACKLOG.labels(self.service).set(0)
                    return 0
                done, failed = await self._publish(rows)
                await self._mark(conn, done, failed)
        EVENTS_PUBLISHED.labels(self.service).inc(len(done))
        if failed:
            raise ConnectionError(f"{len(failed)} of {len(rows)} events not acknowledged by JetStream")
        OUTBOX_BACKLOG.labels(self.service).set(await self.backlog() if len(rows) >= self.batch else 0)
        return len(done)

    async def _publish(self, rows: Sequence[Row[Any, Any, Any, Any]]) -> tuple[list[int], list[int]]:
        """Publish the rows; (the ids JetStream stored, the ids it did not)."""
        outcomes = await self.bus.publish_many([OutgoingMessage(r.subject, r.payload, r.event_id) for r in rows])
        done = [r.id for r, o in zip(rows, outcomes, strict=True) if o is Published.ok]
        failed = [r.id for r, o in zip(rows, outcomes, strict=True) if o is Published.failed]
        # A row in flight elsewhere (a relay that read it before this one) is left alone: that relay marks it, or,
        # should it die first, the next round here publishes it again and JetStream answers "duplicate".
        return done, failed

    async def _mark(self, conn: AsyncConnection, done: list[int], failed: list[int]) -> None:
        t = self.table
        if done:
            await conn.execute(update(t).where(t.c.id.in_(done)).values(published_at=utcnow()))
        if failed:
            await conn.execute(update(t).where(t.c.id.in_(failed)).values(attempts=t.c.attempts + 1))

    async def backlog(self) -> int:
        t = self.table
        async with self.db.engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(t).where(t.c.published_at.is_(None)))).scalar()
        return int(n or 0)

    async def _until_connected(self, timeout: float) -> None:
        """Return as soon as NATS is back (or the relay stops), at most after `timeout`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.bus.is_connected and not self._stop.is_set():
            if asyncio.get_running_loop().time() >= deadline:
                return
            await asyncio.sleep(0.02)

    async def _report_backlog(self) -> None:
        """Keep the backlog gauge true while the relay cannot publish (NATS down): that is when it grows."""
        try:
            OUTBOX_BACKLOG.labels(self.service).set(await self.backlog())
        except Exception as exc:
            log.debug("outbox_backlog_unknown", error=repr(exc))

    async def purge(self) -> None:
        t = self.table
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(t).where(t.c.published_at < utcnow() - self.retention))

    async def _final_drain(self) -> None:
        if not self.bus.is_connected:
            return
        try:
            while await self.drain_once():
                pass
        except Exception as exc:
            log.warning("outbox_final_drain_failed", error=repr(exc))
