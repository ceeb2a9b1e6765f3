"""Each service's hand-written migrations create exactly what its models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from services.registry import SERVICES
from shared.crypto import Sealer
from shared.db.migrations import upgrade, upgrade_async
from tests.support.apps import TEST_ENCRYPTION_KEY
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


@pytest.mark.parametrize(("package", "before"), [("routing_svc", "0004"), ("agency_svc", "0003")])
async def test_names_kept_in_plaintext_are_sealed_on_upgrade(package: str, before: str, database: TestDatabase) -> None:
    await asyncio.to_thread(upgrade, package, database.url, database.schema, before)
    engine = create_async_engine(database.url)
    try:
        async with engine.begin() as conn:
            if database.schema:
                await conn.execute(text(f'SET search_path TO "{database.schema}"'))
            await conn.run_sync(_insert_case, {"tracking_id": "SPL-OLD", "reporter_name": "Siti Aminah"})

        with pytest.raises(RuntimeError, match="ENCRYPTION_KEYS"):
            await asyncio.to_thread(upgrade, package, database.url, database.schema)
        await upgrade_async(package, database.url, database.schema, encryption_keys=[TEST_ENCRYPTION_KEY])

        async with engine.connect() as conn:
            if database.schema:
                await conn.execute(text(f'SET search_path TO "{database.schema}"'))
            sealed = (await conn.execute(text("SELECT reporter_name_sealed FROM cases"))).scalar_one()
            columns = await conn.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("cases")])
        assert "reporter_name" not in columns
        assert "Siti Aminah" not in sealed and Sealer([TEST_ENCRYPTION_KEY]).open(sealed) == "Siti Aminah"
    finally:
        await engine.dispose()


def _insert_case(conn: Connection, values: dict[str, Any]) -> None:
    """A row in `cases` as the older schema has it: the given values, and a placeholder for every required column."""
    table = Table("cases", MetaData(), autoload_with=conn)
    placeholders: dict[type, Any] = {str: "x", int: 0, bool: False, datetime: datetime.now(UTC), date: date.today()}
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        row[column.name] = placeholders[column.type.python_type]
    conn.execute(table.insert().values(row))


@pytest.mark.parametrize(
    ("package", "before", "dropped"),
    [
        ("routing_svc", "0007", ["simpul.complaint.verified", "simpul.sla.breached"]),
        ("notify_svc", "0004", ["simpul.notification.sent", "simpul.notification.failed"]),
    ],
)
async def test_unpublished_events_no_longer_routed_are_dropped_on_upgrade(
    package: str, before: str, dropped: list[str], database: TestDatabase
) -> None:
    """The broker refuses what the topology no longer routes: such rows must not wait in the outbox for ever."""
    await asyncio.to_thread(upgrade, package, database.url, database.schema, before)
    now = datetime.now(UTC)
    rows = [
        {"event_id": f"e-{i}", "subject": subject, "payload": b"{}", "created_at": now, "published_at": published}
        for i, (subject, published) in enumerate(
            [(dropped[0], None), (dropped[1], None), (dropped[0], now), ("simpul.complaint.status_changed", None)]
        )
    ]
    engine = create_async_engine(database.url)
    try:
        async with engine.begin() as conn:
            if database.schema:
                await conn.execute(text(f'SET search_path TO "{database.schema}"'))
            await conn.run_sync(lambda c: c.execute(Table("outbox", MetaData(), autoload_with=c).insert(), rows))
        await upgrade_async(package, database.url, database.schema, encryption_keys=[TEST_ENCRYPTION_KEY])
        async with engine.connect() as conn:
            if database.schema:
                await conn.execute(text(f'SET search_path TO "{database.schema}"'))
            left = (await conn.execute(text("SELECT event_id FROM outbox ORDER BY event_id"))).scalars().all()
        assert left == ["e-2", "e-3"], "the published row and the routed one stay"
    finally:
        await engine.dispose()
