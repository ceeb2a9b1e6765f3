"""Each service's hand-written migrations create exactly what its models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from services.registry import SERVICES
from shared.db.migrations import upgrade_async
from tests.support.databases import TestDatabase


@pytest.mark.parametrize("package", [s.package for s in SERVICES])
async def test_migrations_match_the_models(package: str, database: TestDatabase) -> None:
    metadata: MetaData = importlib.import_module(f"{package}.models").Base.metadata
    await upgrade_async(package, database.url, database.schema)
    await upgrade_async(package, database.url, database.schema)  # a second run is a no-op

    def diff(conn: Connection) -> list:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)

    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            if database.schema:
                await conn.execute(text(f'SET search_path TO "{database.schema}"'))
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
