"""Apply if newer, against real databases: a row takes an event's values only when its version is newer, and of two
replicas racing on one row the older event never wins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select, text

from shared.db.engine import Database
from shared.db.newer import write_if_newer
from tests.support.databases import TestDatabase

T0 = datetime(2026, 3, 17, 10, 0, tzinfo=UTC)


@dataclass
class Replicas:
    """Two replicas of one service: two engines on one database."""

    table: Table
    a: Database
    b: Database

    async def write(self, db: Database, values: dict[str, Any], **options: Any) -> bool:
        async with db.session() as session, session.begin():
            return await write_if_newer(session, self.table, values, key="id", **options)

    async def row(self) -> dict[str, Any] | None:
        async with self.a.engine.connect() as conn:
            found = (await conn.execute(select(self.table))).mappings().first()
        return None if found is None else dict(found)


@pytest.fixture
async def replicas(database: TestDatabase) -> AsyncIterator[Replicas]:
    metadata = MetaData()
    table = Table(
        "replica",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("payload", String(40), nullable=True),
        Column("version", Integer, nullable=False, server_default="0"),
        Column("other_version", Integer, nullable=False, server_default="0"),
        Column("seen_at", DateTime(timezone=True), nullable=True),
    )
    a, b = Database(database.url, schema=database.schema), Database(database.url, schema=database.schema)
    async with a.engine.begin() as conn:
        if database.schema:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{database.schema}"'))
    async with a.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield Replicas(table, a, b)
    finally:
        await a.dispose()
        await b.dispose()


def _v(version: int, **more: Any) -> dict[str, Any]:
    return {"id": "TID-1", "payload": f"v{version}", "version": version, **more}


async def test_inserts_then_takes_only_a_newer_version(replicas: Replicas) -> None:
    write, a = replicas.write, replicas.a
    assert await write(a, _v(2), version="version"), "a missing row is inserted"
    assert await write(a, _v(5), version="version")
    assert not await write(a, _v(3), version="version"), "an older version changes nothing"
    assert not await write(a, {**_v(5), "payload": "again"}, version="version"), "nor the same one"
    assert await replicas.row() == {"id": "TID-1", "payload": "v5", "version": 5, "other_version": 0, "seen_at": None}


async def test_leaves_the_columns_it_is_not_given(replicas: Replicas) -> None:
    write, a = replicas.write, replicas.a
    assert await write(a, {"id": "TID-1", "other_version": 7}, version="other_version")
    assert await write(a, _v(1), version="version")
    row = await replicas.row()
    assert row is not None and (row["payload"], row["version"], row["other_version"]) == ("v1", 1, 7)


async def test_without_insert_a_missing_row_stays_missing(replicas: Replicas) -> None:
    write, a = replicas.write, replicas.a
    assert not await write(a, _v(3), version="version", insert=False)
    assert await replicas.row() is None
    assert await write(a, _v(1), version="version")
    assert await write(a, _v(3), version="version", insert=False)
    assert not await write(a, _v(2), version="version", insert=False)
    row = await replicas.row()
    assert row is not None and (row["payload"], row["version"]) == ("v3", 3)


async def test_a_time_as_the_version_and_the_same_time_applying_again(replicas: Replicas) -> None:
    write, a = replicas.write, replicas.a

    def at(when: datetime, payload: str) -> dict[str, Any]:
        return {"id": "TID-1", "payload": payload, "seen_at": when}

    options: dict[str, Any] = {"version": "seen_at", "same_applies": True}
    assert await write(a, at(T0, "first"), **options)
    assert await write(a, at(T0, "redelivered"), **options), "the same time applies again"
    assert not await write(a, at(T0 - timedelta(microseconds=1), "older"), **options)
    assert await write(a, at(T0 + timedelta(hours=1), "newer"), **options)
    assert not await write(a, at(T0, "late"), **options)
    row = await replicas.row()
    assert row is not None and row["payload"] == "newer"


async def test_values_without_the_key_or_the_version_are_refused(replicas: Replicas) -> None:
    with pytest.raises(ValueError, match="must hold the key"):
        await replicas.write(replicas.a, {"id": "TID-1", "payload": "x"}, version="version")


@pytest.mark.parametrize("insert", [True, False])
@pytest.mark.parametrize(("first", "second", "kept"), [(5, 4, 5), (4, 5, 5)])
async def test_of_two_replicas_racing_the_newer_wins(
    replicas: Replicas, insert: bool, first: int, second: int, kept: int
) -> None:
    if not insert:
        assert await replicas.write(replicas.a, _v(1), version="version")
    async with replicas.a.session() as session:
        await session.begin()
        assert await write_if_newer(session, replicas.table, _v(first), key="id", version="version", insert=insert)
        # The other replica's write waits for this transaction (its row lock, or SQLite's one writer)...
        rival = asyncio.create_task(replicas.write(replicas.b, _v(second), version="version", insert=insert))
        await asyncio.sleep(0.3)
        assert not rival.done()
        await session.commit()
    # ...and then compares with what it committed.
    assert await asyncio.wait_for(rival, 30) is (second > first)
    row = await replicas.row()
    assert row is not None and (row["payload"], row["version"]) == (f"v{kept}", kept)


async def test_many_writers_end_on_the_newest(replicas: Replicas) -> None:
    versions = [7, 3, 12, 1, 9, 12, 4, 11, 2, 10, 8, 5, 6]
    await asyncio.gather(
        *(replicas.write(replicas.a if i % 2 else replicas.b, _v(v), version="version") for i, v in enumerate(versions))
    )
    row = await replicas.row()
    assert row is not None and (row["payload"], row["version"]) == ("v12", 12)
