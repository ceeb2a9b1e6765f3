"""Test databases: a fresh SQLite file, or a fresh schema on the PostgreSQL named by SIMPUL_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import JSON, LargeBinary, MetaData, String, Text, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

POSTGRES_ENV = "SIMPUL_TEST_POSTGRES_URL"


def backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@dataclass(frozen=True)
class TestDatabase:
    __test__ = False  # a fixture value, not a test class

    url: str
    schema: str | None


@asynccontextmanager
async def fresh_database(backend: str, tmp: Path, name: str = "db") -> AsyncIterator[TestDatabase]:
    if backend == "sqlite":
        yield TestDatabase(url=f"sqlite+aiosqlite:///{tmp / (name + '-' + uuid.uuid4().hex[:8])}.db", schema=None)
        return
    url = os.environ[POSTGRES_ENV]
    schema = f"t_{name}_{uuid.uuid4().hex[:10]}"
    try:
        yield TestDatabase(url=url, schema=schema)
    finally:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


def postgres_env_url() -> str | None:
    return os.environ.get(POSTGRES_ENV)


async def stored_text(engine: AsyncEngine, metadata: MetaData) -> list[str]:
    """Every text and binary value in every table of a service's database, for grepping what it keeps."""
    values: list[str] = []
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary | JSON)]
            if not cols:
                continue
            for row in await conn.execute(select(*cols)):
                for value in row:
                    if isinstance(value, bytes):
                        values.append(value.decode("utf-8", "replace"))
                    elif value is not None:
                        values.append(str(value))
    return values
