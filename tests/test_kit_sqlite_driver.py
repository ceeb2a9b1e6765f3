"""The one-trip SQLite cursor answers as the stock aiosqlite adapter does: rows, counts, ids, errors, transactions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.db.engine import create_engine
from shared.db.sqlite_driver import OneTripCursor

META = MetaData()
ITEMS = Table("items", META, Column("id", Integer, primary_key=True), Column("name", String, unique=True))


async def _fill(engine: AsyncEngine) -> dict[str, object]:
    """The same statements on an engine; what each one answered."""
    seen: dict[str, object] = {}
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
    async with engine.begin() as conn:
        one = await conn.execute(insert(ITEMS).values(name="a"))
        seen["lastrowid"] = one.lastrowid
        seen["inserted_many"] = (await conn.execute(insert(ITEMS), [{"name": n} for n in "bcde"])).rowcount
        seen["returning"] = (await conn.execute(insert(ITEMS).values(name="f").returning(ITEMS.c.id))).scalar_one()
        seen["updated"] = (
            await conn.execute(update(ITEMS).where(ITEMS.c.id <= 3).values(name=ITEMS.c.name + "!"))
        ).rowcount
        seen["deleted"] = (await conn.execute(delete(ITEMS).where(ITEMS.c.name == "nobody"))).rowcount
        seen["rows"] = (await conn.execute(select(ITEMS.c.id, ITEMS.c.name).order_by(ITEMS.c.id))).all()
        seen["no_rows"] = (await conn.execute(select(ITEMS.c.id).where(ITEMS.c.id < 0))).all()
        seen["keys"] = list((await conn.execute(select(ITEMS.c.id.label("n")).limit(1))).keys())
    return seen


async def test_it_answers_as_the_stock_adapter_does(tmp_path: Path) -> None:
    ours = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ours.db'}")
    stock = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    try:
        async with ours.connect() as conn:
            raw = await conn.get_raw_connection()
            assert raw.dbapi_connection is not None
            assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)
        expected = await _fill(stock)
        assert await _fill(ours) == expected
        assert expected["inserted_many"] == 4 and expected["updated"] == 3 and expected["deleted"] == 0
        assert expected["no_rows"] == [] and expected["keys"] == ["n"]
    finally:
        await ours.dispose()
        await stock.dispose()


async def test_errors_keep_their_kind_and_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(META.create_all)
            await conn.execute(insert(ITEMS).values(name="a"))

        async def insert_then_repeat() -> None:
            async with engine.begin() as conn:
                await conn.execute(insert(ITEMS).values(name="b"))
                await conn.execute(insert(ITEMS).values(name="a"))

        async def read_nothing() -> None:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT * FROM no_such_table"))

        with pytest.raises(IntegrityError):
            await insert_then_repeat()
        with pytest.raises(OperationalError):
            await read_nothing()
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(ITEMS))).scalar_one() == 1
        async with engine.begin() as conn:
            nested = await conn.begin_nested()
            await conn.execute(insert(ITEMS).values(name="c"))
            await nested.rollback()
            await conn.execute(insert(ITEMS).values(name="d"))
        async with engine.connect() as conn:
            names = (await conn.execute(select(ITEMS.c.name).order_by(ITEMS.c.name))).scalars().all()
        assert names == ["a", "d"]
    finally:
        await engine.dispose()
