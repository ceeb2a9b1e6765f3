"""The audit trail's hash chain on SQLite and PostgreSQL: appending, verifying, and every kind of tampering found."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from routing_svc.models import KIT
from shared.audit import Entry, Target, Verdict, record, verify_chain, verify_database
from shared.audit.chain import GENESIS, entry_hash
from shared.db import Database
from shared.db.migrations import upgrade_async
from tests.support.apps import eventually
from tests.support.databases import TestDatabase

LOG = KIT.audit_log
HEAD = KIT.audit_head
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(database: TestDatabase) -> AsyncIterator[Database]:
    """A service database (routing_svc's migrations, which carry the audit tables)."""
    await upgrade_async("routing_svc", database.url, database.schema)
    db = Database(database.url, schema=database.schema)
    yield db
    await db.dispose()


async def append(db: Database, *actions: str, actor: str = "admin:tester") -> None:
    """One transaction that records one entry per action, then commits."""
    async with db.session() as session:
        for i, action in enumerate(actions):
            await record(
                session,
                KIT,
                Entry(
                    actor=actor,
                    action=action,
                    target_type=Target.node,
                    target_id=f"NODE-{action}",
                    at=T0 + timedelta(seconds=i),
                    reason=f"because {action}",
                    details={"n": i, "nested": {"b": 1, "a": [1, 2]}},
                ),
            )
        await session.commit()


async def rows(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(select(LOG).order_by(LOG.c.seq))).all())


async def verify(database: TestDatabase, **kwargs: Any) -> Verdict:
    return await verify_database(database.url, database.schema, **kwargs)


async def tamper(db: Database, *statements: Any) -> None:
    async with db.engine.connect() as conn:
        for stmt in statements:
            await conn.execute(stmt)
        await conn.commit()


async def test_appends_link_each_entry_to_the_one_before(db: Database, database: TestDatabase) -> None:
    assert await verify(database) == Verdict(0)
    await append(db, "a", "b")
    await append(db, "c")
    await append(db, "d", "e")

    found = await rows(db)
    assert [r.seq for r in found] == [1, 2, 3, 4, 5]
    assert [r.action for r in found] == ["a", "b", "c", "d", "e"]
    assert found[0].prev_hash == GENESIS
    for before, after in zip(found, found[1:], strict=False):
        assert after.prev_hash == before.hash
    for r in found:
        assert r.hash == entry_hash(r.prev_hash, dict(r._mapping)) and len(r.hash) == 64
    assert found[0].details == '{"n":0,"nested":{"a":[1,2],"b":1}}', "details are stored as canonical JSON"
    async with db.engine.connect() as conn:
        head = (await conn.execute(select(HEAD))).one()
    assert (head.seq, head.hash) == (5, found[-1].hash)
    assert await verify(database) == Verdict(5)


async def test_the_hash_covers_every_field(db: Database) -> None:
    await append(db, "a")
    row = dict((await rows(db))[0]._mapping)
    original = entry_hash(row["prev_hash"], row)
    changes = {
        "seq": 2,
        "at": row["at"] + timedelta(microseconds=1),
        "actor": "admin:other",
        "action": "b",
        "target_type": "case",
        "target_id": "NODE-b",
        "reason": None,
        "details": "{}",
    }
    for field, value in changes.items():
        assert entry_hash(row["prev_hash"], {**row, field: value}) != original, field
    assert entry_hash("f" * 64, row) != original


async def test_an_edited_field_is_reported_at_its_seq(db: Database, database: TestDatabase) -> None:
    await append(db, "a", "b", "c", "d")
    third = (await rows(db))[2]
    await tamper(db, update(LOG).where(LOG.c.seq == 3).values(reason="nothing to see"))

    verdict = await verify(database)
    assert verdict.broken is not None and verdict.entries == 2
    assert (verdict.broken.seq, verdict.broken.row_id) == (3, third.id)
    assert "hash does not match" in verdict.broken.problem
    assert verdict.broken.where() == f"seq 3, row id {third.id}"


async def test_an_edited_hash_breaks_the_next_link(db: Database, database: TestDatabase) -> None:
    """Recomputing a tampered row's own hash only moves the break to the next entry."""
    await append(db, "a", "b", "c")
    found = await rows(db)
    forged = {**found[1]._mapping, "actor": "admin:someone-else"}
    await tamper(
        db,
        update(LOG).where(LOG.c.seq == 2).values(actor=forged["actor"], hash=entry_hash(found[1].prev_hash, forged)),
    )
    verdict = await verify(database)
    assert verdict.broken is not None
    assert (verdict.broken.seq, verdict.broken.row_id) == (3, found[2].id)
    assert "prev_hash" in verdict.broken.problem


async def test_a_deleted_entry_is_reported_where_the_gap_is(db: Database, database: TestDatabase) -> None:
    await append(db, "a", "b", "c", "d")
    found = await rows(db)
    await tamper(db, delete(LOG).where(LOG.c.seq == 2))
    verdict = await verify(database)
    assert verdict.broken is not None
    assert (verdict.broken.seq, verdict.broken.row_id) == (2, found[2].id)
    assert "seq 2 is missing" in verdict.broken.problem


async def test_a_deleted_last_entry_is_caught_by_the_head(db: Database, database: TestDatabase) -> None:
    await append(db, "a", "b", "c")
    await tamper(db, delete(LOG).where(LOG.c.seq == 3))
    verdict = await verify(database)
    assert verdict.broken is not None and verdict.broken.seq == 3
    assert "seq 3 to 3 are missing" in verdict.broken.problem


async def test_reordered_entries_are_reported_at_the_first_moved_one(db: Database, database: TestDatabase) -> None:
    await append(db, "a", "b", "c", "d")
    found = await rows(db)
    await tamper(
        db,
        update(LOG).where(LOG.c.id == found[1].id).values(seq=-2),
        update(LOG).where(LOG.c.id == found[2].id).values(seq=2),
        update(LOG).where(LOG.c.id == found[1].id).values(seq=3),
    )
    verdict = await verify(database)
    assert verdict.broken is not None
    assert (verdict.broken.seq, verdict.broken.row_id) == (2, found[2].id)


async def test_rows_written_around_the_trail_are_reported(db: Database, database: TestDatabase) -> None:
    await append(db, "a")
    stray = {"at": T0, "actor": "x", "action": "y", "target_type": "node", "target_id": "z", "details": "{}"}
    await tamper(db, insert(LOG).values(**stray))
    verdict = await verify(database)
    assert verdict.broken is not None and verdict.broken.seq is None
    assert "not linked" in verdict.broken.problem

    await tamper(db, update(LOG).where(LOG.c.seq.is_(None)).values(seq=7, prev_hash=GENESIS, hash=GENESIS))
    verdict = await verify(database)
    assert verdict.broken is not None and verdict.broken.seq == 7
    assert "beyond the audit_head" in verdict.broken.problem


async def test_a_missing_head_or_table_fails(db: Database, database: TestDatabase) -> None:
    await append(db, "a")
    await tamper(db, delete(HEAD))
    verdict = await verify(database)
    assert verdict.broken is not None and "audit_head row is missing" in verdict.broken.problem
    await tamper(db, text("DROP TABLE audit_log"))
    verdict = await verify(database)
    assert verdict.broken is not None and "no audit_log table" in verdict.broken.problem


async def test_an_entry_in_a_rolled_back_savepoint_leaves_no_gap(db: Database, database: TestDatabase) -> None:
    """As in a consumer batch: each message under a savepoint; a failed one takes its entries with it."""
    async with db.session() as session, session.begin():
        for action in ("kept-1", "dropped", "kept-2"):
            try:
                async with session.begin_nested():
                    await record(
                        session,
                        KIT,
                        Entry(actor="routing", action=action, target_type=Target.case, target_id="LPR-1", at=T0),
                    )
                    if action == "dropped":
                        raise RuntimeError("handler failed")
            except RuntimeError:
                pass
    assert [(r.seq, r.action) for r in await rows(db)] == [(1, "kept-1"), (2, "kept-2")]
    assert await verify(database) == Verdict(2)

    async with db.session() as session:
        await record(
            session, KIT, Entry(actor="x", action="rolled-back", target_type=Target.case, target_id="t", at=T0)
        )
        await session.rollback()
        await session.commit()
    assert await verify(database) == Verdict(2)


async def test_progress_is_reported_every_n_entries(db: Database, database: TestDatabase) -> None:
    await append(db, *(f"e{i}" for i in range(7)))
    seen: list[int] = []
    assert await verify(database, progress=seen.append, progress_every=3) == Verdict(7)
    assert seen == [3, 6]


async def test_the_chain_is_read_in_chunks_across_their_boundaries(db: Database) -> None:
    await append(db, *(f"e{i}" for i in range(7)))
    async with db.engine.connect() as conn:
        assert await verify_chain(conn, chunk=2) == Verdict(7)
    await tamper(db, update(LOG).where(LOG.c.seq == 5).values(actor="admin:someone-else"))
    async with db.engine.connect() as conn:
        verdict = await verify_chain(conn, chunk=2)
    assert verdict.entries == 4 and verdict.broken is not None and verdict.broken.seq == 5


async def test_concurrent_writers_do_not_fork_the_chain(database: TestDatabase) -> None:
    """Two services' worth of engines (as two replicas), many transactions at once: one chain, no gaps."""
    await upgrade_async("routing_svc", database.url, database.schema)
    replicas = [Database(database.url, schema=database.schema) for _ in range(2)]
    try:
        await asyncio.gather(
            *(append(replicas[i % 2], f"t{i}-a", f"t{i}-b", actor=f"replica-{i % 2}") for i in range(12))
        )
        found = await rows(replicas[0])
        assert [r.seq for r in found] == list(range(1, 25))
        assert await verify(database) == Verdict(24)
    finally:
        for r in replicas:
            await r.dispose()


@pytest.mark.postgres
async def test_a_second_session_waits_for_the_head_on_postgres(database: TestDatabase) -> None:
    """Session B's commit queues behind A's lock on the head, then links after A's entry: no fork."""
    if database.schema is None:
        pytest.skip("PostgreSQL only: SQLite serializes writers with BEGIN IMMEDIATE")
    await upgrade_async("routing_svc", database.url, database.schema)
    a_db, b_db = Database(database.url, schema=database.schema), Database(database.url, schema=database.schema)
    try:
        async with a_db.session() as a, b_db.session() as b:
            await record(a, KIT, Entry(actor="a", action="first", target_type=Target.case, target_id="LPR-A", at=T0))
            await record(b, KIT, Entry(actor="b", action="second", target_type=Target.case, target_id="LPR-B", at=T0))
            await a.execute(select(HEAD).with_for_update())  # A holds the head, as its own commit would
            b_commit = asyncio.create_task(b.commit())

            async def b_waits_for_a_lock() -> bool:
                async with a_db.engine.connect() as conn:
                    waiting = await conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE '%audit_head%'"
                        )
                    )
                    return bool(waiting.scalar_one())

            await eventually(b_waits_for_a_lock)
            assert not b_commit.done()
            await a.commit()
            await b_commit
        found = await rows(a_db)
        assert [(r.seq, r.action) for r in found] == [(1, "first"), (2, "second")]
        assert found[1].prev_hash == found[0].hash
        assert await verify(database) == Verdict(2)
        async with a_db.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(LOG))).scalar_one() == 2
    finally:
        await a_db.dispose()
        await b_db.dispose()
