"""The hand-written migration creates exactly what models.py declares, on either database."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from notify_svc.models import Base
from shared.db.migrations import upgrade, upgrade_async

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


async def test_upgrading_keeps_the_delivery_log(database: TestDatabase) -> None:
    """0003 on a database with notifications: they become the reporter's (recipient_id ''), still one per event."""
    await asyncio.to_thread(upgrade, "notify_svc", database.url, database.schema, "0002")
    row = (
        "INSERT INTO notifications (id, event_id, event_type, tracking_id, recipient_kind, channel, template, context, "
        "status, attempts, created_at, updated_at) VALUES (:id, 'e-1', 'complaint.status_changed', 'SPL-OLD', "
        "'reporter', :channel, 'status_changed', '{}', 'sent', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    connect_args = {"server_settings": {"search_path": database.schema}} if database.schema else {}
    engine = create_async_engine(database.url, connect_args=connect_args)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(row), {"id": "n-1", "channel": "email"})
        await upgrade_async("notify_svc", database.url, database.schema)
        async with engine.begin() as conn:
            kept = (await conn.execute(text("SELECT recipient_id, context_sealed FROM notifications"))).all()
        assert [tuple(r) for r in kept] == [("", None)]
        with pytest.raises(IntegrityError):  # the same event for the same reporter, on another channel
            async with engine.begin() as conn:
                await conn.execute(text(row), {"id": "n-2", "channel": "sms"})
    finally:
        await engine.dispose()


async def test_upgrading_forgets_anonymous_reporters_names(database: TestDatabase) -> None:
    """0006: a contact registered as anonymous before intake stopped sending the name loses it; others keep theirs."""
    await asyncio.to_thread(upgrade, "notify_svc", database.url, database.schema, "0005")
    row = (
        "INSERT INTO contacts (tracking_id, name_sealed, email_sealed, phone_sealed, language, is_anonymous, "
        "registered_at) VALUES (:tid, :name, 'sealed-email', NULL, 'id', :anonymous, '2026-01-01 00:00:00')"
    )
    connect_args = {"server_settings": {"search_path": database.schema}} if database.schema else {}
    engine = create_async_engine(database.url, connect_args=connect_args)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(row), {"tid": "SPL-ANON", "name": "sealed-name-a", "anonymous": True})
            await conn.execute(text(row), {"tid": "SPL-NAMED", "name": "sealed-name-b", "anonymous": False})
        await upgrade_async("notify_svc", database.url, database.schema)
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT tracking_id, name_sealed, email_sealed FROM contacts"))).all()
    finally:
        await engine.dispose()
    assert sorted(tuple(r) for r in found) == [
        ("SPL-ANON", None, "sealed-email"),
        ("SPL-NAMED", "sealed-name-b", "sealed-email"),
    ]
