"""Checking an audit trail: recompute the chain from the first entry and report the first link that does not hold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, event, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared.audit.chain import GENESIS, entry_hash
from shared.audit.trail import HEAD_ID
from shared.db.engine import create_engine, is_sqlite
from shared.db.kit_tables import add_kit_tables, new_metadata

_KIT = add_kit_tables(new_metadata())
PROGRESS_EVERY = 10_000
CHUNK = 2_000


@dataclass(frozen=True)
class Break:
    """The first link that does not hold: where (seq, row id; either may be unknown) and what does not match."""

    seq: int | None
    row_id: int | None
    problem: str

    def where(self) -> str:
        """ "seq 3, row id 7", either part left out when unknown; "" when neither is known."""
        parts = [f"seq {self.seq}" if self.seq is not None else None, f"row id {self.row_id}" if self.row_id else None]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class Verdict:
    entries: int
    """How many entries were found linked correctly (all of them when `broken` is None)."""
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_database(
    url: str,
    schema: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> Verdict:
    """Verify one service database's trail, reading it as one consistent snapshot (a live service may write on)."""
    engine = _snapshot_engine(url, schema)
    try:
        async with engine.connect() as conn:
            if not is_sqlite(url):
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                if not await conn.run_sync(_has_audit_tables):
                    return Verdict(0, Break(None, None, "there is no audit_log table: run `simpul migrate`"))
                return await verify_chain(conn, progress=progress, progress_every=progress_every)
    finally:
        await engine.dispose()


def _has_audit_tables(conn: Connection) -> bool:
    inspector = inspect(conn)
    return inspector.has_table("audit_log") and inspector.has_table("audit_head")


def _snapshot_engine(url: str, schema: str | None) -> AsyncEngine:
    if not is_sqlite(url):
        return create_engine(url, schema=schema)
    # A reader needs no write lock (the services' engines begin IMMEDIATE), only one snapshot: a plain BEGIN.
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


async def verify_chain(
    conn: AsyncConnection,
    *,
    progress: Callable[[int], None] | None = None,
    progress_every: int = PROGRESS_EVERY,
    chunk: int = CHUNK,
) -> Verdict:
    """Walk the trail in seq order: every seq present, every prev_hash the previous hash, every hash recomputed.

    Then the head must name the last entry, and no row may lie outside the chain. Call it inside one transaction
    with a snapshot (as verify_database does), or the head and the rows may be read at different moments.
    """
    log, head = _KIT.audit_log, _KIT.audit_head
    top = (await conn.execute(select(head.c.seq, head.c.hash).where(head.c.id == HEAD_ID))).first()
    if top is None:
        return Verdict(0, Break(None, None, "the audit_head row is missing"))
    head_seq, head_hash = int(top.seq), str(top.hash)
    seq, prev, last_row = 0, GENESIS, None
    while True:
        rows = (
            await conn.execute(
                select(log).where(log.c.seq > seq, log.c.seq <= head_seq).order_by(log.c.seq).limit(chunk)
            )
        ).all()
        for row in rows:
            broken = _check_link(row, seq + 1, prev)
            if broken is not None:
                return Verdict(seq, broken)
            seq, prev, last_row = seq + 1, str(row.hash), row
            if progress is not None and seq % progress_every == 0:
                progress(seq)
        if len(rows) < chunk:
            break
    if seq < head_seq:
        after = f" (row id {last_row.id})" if last_row is not None else ""
        problem = f"seq {seq + 1} to {head_seq} are missing: the trail ends at seq {seq}{after}, its head at {head_seq}"
        return Verdict(seq, Break(seq + 1, None, problem))
    if head_hash != prev:
        return Verdict(seq, Break(seq, None, "the audit_head hash does not match the last entry's hash"))
    return Verdict(seq, await _outside_the_chain(conn, log, head_seq))


def _check_link(row: Any, expected_seq: int, prev: str) -> Break | None:
    if row.seq != expected_seq:
        return Break(
            expected_seq,
            row.id,
            f"seq {expected_seq} is missing: after seq {expected_seq - 1} comes seq {row.seq} "
            "(an entry was deleted or renumbered)",
        )
    if row.prev_hash != prev:
        return Break(
            row.seq,
            row.id,
            f"prev_hash does not match the hash of seq {row.seq - 1} (an entry was changed, moved or replaced)",
        )
    if row.hash != entry_hash(prev, dict(row._mapping)):
        return Break(row.seq, row.id, "the stored hash does not match the entry's fields (the row was edited)")
    return None


async def _outside_the_chain(conn: AsyncConnection, log: Table, head_seq: int) -> Break | None:
    stray = (
        await conn.execute(
            select(log.c.id, log.c.seq).where((log.c.seq.is_(None)) | (log.c.seq > head_seq)).order_by(log.c.id)
        )
    ).first()
    if stray is None:
        return None
    if stray.seq is None:
        return Break(None, stray.id, "the row is not linked into the chain (no seq): written around the audit trail")
    return Break(stray.seq, stray.id, f"the row lies beyond the audit_head (seq {head_seq}): appended around the trail")
