"""docs/deploy.md, "Backups", step by step on PostgreSQL: one service's schema dumped with pg_dump and restored with
pg_restore, its durables deleted, the service started again. It catches up from the stream, applies once what came
after the dump, and its audit chain holds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from agency_svc.app import create_app
from agency_svc.models import Case
from agency_svc.settings import AgencySettings
from shared.audit.verify import verify_database
from shared.bus.nats_bus import STREAM
from shared.db.engine import Database
from tests.agency_svc.conftest import Agency, new_tid
from tests.support.apps import eventually, running_service, service_settings, test_bus
from tests.support.databases import fresh_database, postgres_env_url

pytestmark = [
    pytest.mark.skipif(postgres_env_url() is None, reason="pg_dump and pg_restore need PostgreSQL"),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
]


def _pg(tool: str, url: str, *args: str) -> None:
    u = make_url(url)
    argv = [tool, "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    done = subprocess.run([*argv, "-d", u.database or "postgres", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


async def _stored_ids(settings: AgencySettings) -> list[str]:
    db = Database(settings.resolved_database_url(), schema=settings.database_schema)
    try:
        async with db.session() as session:
            return sorted((await session.execute(select(Case.tracking_id))).scalars())
    finally:
        await db.engine.dispose()


async def test_a_restored_service_catches_up_from_the_stream(natsd: Any, tmp_path: Path) -> None:
    async with fresh_database("postgres", tmp_path, "backup") as database:
        assert database.schema is not None
        settings = service_settings(AgencySettings, database, natsd, tmp_path)
        dump = tmp_path / f"{database.schema}.dump"
        async with running_service("agency_svc", create_app, settings) as (app, client), test_bus(natsd) as bus:
            agency = Agency(app=app, client=client, bus=bus)
            await agency.seed_tree()
            before = new_tid()
            await agency.dispose(before, "UPT", 1)
            await agency.wait_case("UPT", before)
            acknowledged = await agency.post("UPT", before, "acknowledge")  # an audited action, in the dump
            assert acknowledged.status_code == 200, acknowledged.text
            _pg("pg_dump", database.url, f"--schema={database.schema}", "--format=custom", f"--file={dump}")
            after = new_tid()
            await agency.dispose(after, "UPT", 1)
            await agency.wait_case("UPT", after)
            durables = [c.sub.name for c in agency.runtime.consumers]

        _pg("pg_restore", database.url, "--clean", "--if-exists", f"--schema={database.schema}", str(dump))
        assert await _stored_ids(settings) == [before], "the restore brought back the schema as it was dumped"

        async with test_bus(natsd) as bus:
            for durable in durables:  # step 1: the restored service's durables go
                await bus.js.delete_consumer(STREAM, durable)
        async with running_service("agency_svc", create_app, settings) as (app, client), test_bus(natsd) as bus:
            restored = Agency(app=app, client=client, bus=bus, keys=agency.keys)

            async def caught_up() -> list[str] | None:
                found = await restored.inbox("UPT")
                return found if after in found else None

            inbox = await eventually(caught_up)
            assert sorted(inbox) == sorted([before, after]), "each case once: the dump's, and the one after it"
            kept = await restored.case_json("UPT", before)
            assert kept["acknowledged_at"] == acknowledged.json()["acknowledged_at"]
        assert await _stored_ids(settings) == sorted([before, after])
        verdict = await verify_database(settings.resolved_database_url(), settings.database_schema)
        assert verdict.ok and verdict.entries >= 1, verdict
