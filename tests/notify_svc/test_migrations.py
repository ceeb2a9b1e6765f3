"""The hand-written migration creates exactly what models.py declares, on either database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from notify_svc.models import Base
from shared.db.migrations import upgrade_async

if TYPE_CHECKING:
    from tests.support.databases import TestDatabase


def _diff(conn: Connection) -> list:
    return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


async def test_migration_matches_models(database: TestDatabase) -> None:
    await upgrade_async("notify_svc", database.url, database.schema)
    connect_args = {"server_settings": {"search_path": database.schema}} if database.schema else {}
    engine = create_async_engine(database.url, connect_args=connect_args)
    try:
        async with engine.connect() as conn:
            if database.schema:
                await conn.execute(text(f'SET search_path TO "{database.schema}"'))
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []
