"""The kit against a real nats-server and real databases: outbox, relay, idempotent consumers, dead letters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from nats.js.api import ConsumerConfig, PubAck
from nats.js.errors import APIError
from sqlalchemy import Column, Integer, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Bus, ConsumerRunner, Subscription
from shared.bus.dlq import iter_dead_letters
from shared.bus.handlers import Handler, Handlers
from shared.bus.nats_bus import DUPLICATE_IN_PROCESS, STREAM, OutgoingMessage, Published, outcome_of
from shared.db import Database, add_kit_tables
from shared.db.kit_tables import new_metadata
from shared.events import Envelope, encode_event, new_event
from shared.events.contracts import ReporterRated
from shared.events.topology import Durable, Service
from shared.outbox import Outbox, OutboxRelay

pytestmark = pytest.mark.asyncio


def _schema():
    metadata = new_metadata()
    kit = add_kit_tables(metadata)
    seen = Table(
        "seen",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tracking_id", String(40)),
    )
    return metadata, kit, seen


async def _setup(database, natsd, durable_prefix: str):
    metadata, kit, seen = _schema()
    db = Database(database.url, schema=database.schema)
    if database.schema:
        from sqlalchemy import text

        async with db.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{database.schema}"'))
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    bus = Bus(natsd.url, name=f"test-{durable_prefix}")
    await bus.connect()
    return db, bus, kit, seen


def _rated(tid: str) -> ReporterRated:
    from shared.clock import utcnow

    return ReporterRated(tracking_id=tid, score=5, rated_at=utcnow())


def _rated_subscription(durable: str, handler: Handler[ReporterRated, None]) -> Subscription[None]:
    """A test durable (outside the topology) that hands reporter.rated to `handler`."""
    handlers = Handlers[None]()
    handlers.on(ReporterRated)(handler)
    return Subscription(Durable(durable, Service.routing), handlers)


async def _wait_for(predicate, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_outbox_relay_publishes_once_and_consumer_applies_once(database, natsd):
    durable = f"t-{uuid.uuid4().hex[:8]}"
    db, bus, kit, seen = await _setup(database, natsd, durable)
    outbox = Outbox(kit.outbox, source="intake")
    tids = [f"TID-{durable}-{i}".upper() for i in range(50)]

    async with db.session() as s, s.begin():
        await outbox.add(s, *[_rated(t) for t in tids])

    async def record(session: AsyncSession, env: Envelope, data: ReporterRated, ctx: None) -> None:
        tid = data.tracking_id_or_none()
        if tid in tids:  # the stream also holds other tests' events on this subject
            await session.execute(seen.insert().values(tracking_id=tid))

    runner = ConsumerRunner(
        service="test",
        bus=bus,
        db=db,
        kit=kit,
        subscription=_rated_subscription(durable, record),
        context=None,
    )
    relay = OutboxRelay(db, bus, kit.outbox, service="test", poll_interval=0.05)
    bus._ready.set()
    # A relay that crashed after publishing but before marking repeats every publish: simulate it.
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(kit.outbox.c.subject, kit.outbox.c.payload, kit.outbox.c.event_id))).all()
    await bus.publish_many([OutgoingMessage(r.subject, r.payload, r.event_id) for r in rows])
    assert await relay.drain_once() == 50
    assert await relay.backlog() == 0

    task = asyncio.create_task(runner.run())

    async def all_seen() -> bool:
        async with db.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(seen))).scalar() >= 50

    await _wait_for(all_seen)
    # Redeliver every event once more under a new Nats-Msg-Id: the inbox must skip them all.
    await bus.publish_many([OutgoingMessage(r.subject, r.payload, f"again-{r.event_id}") for r in rows])
    await asyncio.sleep(1.0)
    runner.stop()
    await task
    async with db.engine.connect() as conn:
        got = (await conn.execute(select(seen.c.tracking_id))).scalars().all()
    assert sorted(got) == sorted(tids)
    await bus.close()
    await db.dispose()


async def test_malformed_and_failing_events_are_dead_lettered(database, natsd):
    durable = f"t-{uuid.uuid4().hex[:8]}"
    db, bus, kit, _ = await _setup(database, natsd, durable)
    subject = "simpul.reporter.rated"
    bad_tid = f"FAIL-{durable}".upper()

    async def explode(session: AsyncSession, env: Envelope, data: ReporterRated, ctx: None) -> None:
        if data.tracking_id_or_none() == bad_tid:
            raise RuntimeError("handler bug")

    runner = ConsumerRunner(
        service="test",
        bus=bus,
        db=db,
        kit=kit,
        subscription=_rated_subscription(durable, explode),
        context=None,
        max_deliver=2,
    )
    junk = f"{{not json {durable}".encode()
    await bus.publish(subject, junk, headers={"Nats-Msg-Id": f"junk-{durable}"})
    env = new_event(_rated(bad_tid), source="intake")
    await bus.publish(subject, encode_event(env), headers={"Nats-Msg-Id": str(env.id)})
    task = asyncio.create_task(runner.run())

    ours: dict = {}

    async def both_dead() -> bool:
        async for letter in iter_dead_letters(bus.js, durable):
            if letter.payload == junk:
                ours["junk"] = letter
            elif str(env.id).encode() in letter.payload:
                ours["failing"] = letter
        return len(ours) == 2

    await _wait_for(both_dead, timeout=20)
    runner.stop()
    await task
    assert "not an event envelope" in ours["junk"].error
    assert ours["junk"].deliveries == 1
    assert "handler bug" in ours["failing"].error
    assert ours["failing"].deliveries == 2
    assert ours["failing"].subject == subject
    stream = await bus.js.stream_info(STREAM)
    assert stream.config.duplicate_window == 120
    await bus.close()
    await db.dispose()


async def test_a_publish_in_flight_elsewhere_is_neither_done_nor_failed():
    in_process = APIError(code=409, err_code=DUPLICATE_IN_PROCESS, description="duplicate message id is in process")
    assert outcome_of(PubAck(stream=STREAM, seq=7)) is Published.ok
    assert outcome_of(PubAck(stream=STREAM, seq=7, duplicate=True)) is Published.ok
    assert outcome_of(in_process) is Published.in_flight
    assert outcome_of(APIError(code=503, err_code=10008, description="jetstream not enabled")) is Published.failed
    assert outcome_of(TimeoutError()) is Published.failed


async def test_two_relays_on_one_outbox_publish_each_event_once_and_count_no_failure(database, natsd):
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    db, bus, kit, _ = await _setup(database, natsd, prefix)
    other = Bus(natsd.url, name=f"test-{prefix}-2")
    await other.connect()
    outbox = Outbox(kit.outbox, source="intake")
    tids = [f"TID-{prefix}-{i}".upper() for i in range(300)]
    async with db.session() as s, s.begin():
        await outbox.add(s, *[_rated(t) for t in tids])
    relays = [OutboxRelay(db, b, kit.outbox, service="test", batch=50, poll_interval=0.05) for b in (bus, other)]
    offered: list[str] = []
    for b in (bus, other):
        publish_many = b.publish_many

        async def counted(messages: Sequence[OutgoingMessage], publish_many: Any = publish_many) -> list[Published]:
            offered.extend(m.msg_id for m in messages)
            return list(await publish_many(messages))

        b.publish_many = counted  # type: ignore[method-assign]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.backlog():
            await relay.drain_once()

    await asyncio.gather(*(drain(r) for r in relays))
    async with db.engine.connect() as conn:
        attempts = (await conn.execute(select(func.max(kit.outbox.c.attempts)))).scalar()
        ids = (await conn.execute(select(kit.outbox.c.event_id))).scalars().all()
    assert attempts == 0, "a row the other relay was publishing counted as a failure"
    info = await bus.js.stream_info(STREAM)
    got = [await bus.js.get_msg(STREAM, seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]
    mine = [m for m in got if m.headers and m.headers.get("Nats-Msg-Id") in set(ids)]
    assert len(mine) == len(tids) and len({m.headers["Nats-Msg-Id"] for m in mine}) == len(tids)
    if not db.is_sqlite:
        assert sorted(offered) == sorted(ids), "on PostgreSQL a row locked by one relay is skipped by the other"
    else:
        assert set(offered) == set(ids)
    await other.close()
    await bus.close()
    await db.dispose()


async def test_a_failing_handler_holds_back_only_its_own_event_of_a_batch(database, natsd):
    durable = f"t-{uuid.uuid4().hex[:8]}"
    db, bus, kit, seen = await _setup(database, natsd, durable)
    subject = "simpul.reporter.rated"
    tids = [f"OK-{durable}-{i}".upper() for i in range(6)]
    bad_tid = f"FAIL-{durable}".upper()
    calls: list[str] = []

    async def record(session: AsyncSession, env: Envelope, data: ReporterRated, ctx: None) -> None:
        tid = data.tracking_id_or_none() or ""
        calls.append(tid)
        await session.execute(seen.insert().values(tracking_id=tid))
        if tid == bad_tid:
            raise RuntimeError("handler bug")

    runner = ConsumerRunner(
        service="test",
        bus=bus,
        db=db,
        kit=kit,
        subscription=_rated_subscription(durable, record),
        context=None,
    )
    envelopes = [new_event(_rated(t), source="intake") for t in [*tids[:3], bad_tid, *tids[3:]]]
    failing_id = str(envelopes[3].id)
    for env in envelopes:
        await bus.publish(subject, encode_event(env), headers={"Nats-Msg-Id": str(env.id)})
    await bus.js.add_consumer(STREAM, ConsumerConfig(durable_name=durable, filter_subject=subject, ack_wait=30))
    psub = await bus.js.pull_subscribe_bind(durable=durable, stream=STREAM)
    fetched = await psub.fetch(len(envelopes), timeout=5)
    assert len(fetched) == len(envelopes)

    await runner.handle_batch([*fetched, fetched[0]])  # the first one delivered twice in the batch

    async with db.engine.connect() as conn:
        stored = (await conn.execute(select(seen.c.tracking_id))).scalars().all()
        claimed = (
            (
                await conn.execute(
                    select(kit.processed_events.c.event_id).where(kit.processed_events.c.consumer == durable)
                )
            )
            .scalars()
            .all()
        )
    assert sorted(stored) == sorted(tids), "each good event applied once, the failing one rolled back"
    assert sorted(claimed) == sorted(str(e.id) for e in envelopes if str(e.id) != failing_id)
    # Together up to the failure (the repeat of the first event skipped), then all apart, a savepoint each.
    assert calls == [*tids[:3], bad_tid, *tids[:3], bad_tid, *tids[3:]]
    info = await bus.js.consumer_info(STREAM, durable)
    assert info.num_ack_pending == 1, "only the failing event waits for redelivery"
    await psub.unsubscribe()
    await bus.close()
    await db.dispose()
