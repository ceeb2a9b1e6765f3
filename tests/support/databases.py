"""Test databases: a fresh SQLite file, or a fresh schema on the PostgreSQL named by SIMPUL_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

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
