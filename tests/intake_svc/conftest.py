"""intake_svc running in-process against the per-test nats-server and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from intake_svc.app import create_app
from intake_svc.models import KIT
from intake_svc.settings import IntakeSettings
from shared.bus import STREAM, Bus
from shared.clock import Clock
from shared.domain import Role, Status
from shared.events import EventData, encode_event, new_event
from shared.events.contracts import ComplaintStatusChanged
from shared.runtime import Runtime
from tests.support.apps import eventually, publisher_of, running_service, service_settings, test_bus
from tests.support.databases import TestDatabase

REPORTER = {"name": "Siti Aminah", "email": "siti.aminah@example.test", "phone": "+62 812 0000 1111"}


def complaint_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Layanan kunjungan dipungut biaya",
        "content": "Petugas meminta uang untuk kunjungan keluarga.",
        "classification": "pengaduan",
        "category": "pemasyarakatan",
        "region_code": "3578",
        "reporter": dict(REPORTER),
    }
    body.update(overrides)
    return body


@dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    bus: Bus
    settings: IntakeSettings
    database: TestDatabase

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def submit(self, headers: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
        r = await self.client.post("/api/v1/complaints", json=complaint_body(**overrides), headers=headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def view(self, receipt: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.get(
            f"/api/v1/complaints/{receipt['tracking_id']}", headers={"X-Receipt": receipt["receipt"]}
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def count(self, table: Any) -> int:
        async with self.runtime.db.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    async def processed(self, event_id: str) -> bool:
        t = KIT.processed_events
        async with self.runtime.db.engine.connect() as conn:
            found = await conn.execute(select(t.c.event_id).where(t.c.event_id == event_id))
            return found.first() is not None


async def subject_count(bus: Bus, subject: str, stream: str = STREAM) -> int:
    info = await bus.js.stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


def status_changed(tid: str, version: int, status: Status, previous: Status | None, **extra: Any) -> EventData:
    return ComplaintStatusChanged(
        tracking_id=tid,
        status=status,
        previous_status=previous,
        actor="routing",
        case_version=version,
        changed_at=datetime.now(UTC) + timedelta(minutes=version),
        **extra,
    )


async def publish_and_wait(intake: Intake, data: EventData) -> None:
    """Publish an event and wait until the reporter-view consumer has processed it."""
    env = new_event(data, source=publisher_of(data))
    await intake.bus.publish(data.subject(), encode_event(env), headers={"Nats-Msg-Id": str(env.id)})
    await eventually(lambda: intake.processed(str(env.id)))


async def issue_key(intake: Intake, role: Role, agency_code: str | None = None) -> str:
    """A key as routing issues it, once intake's replica holds it."""
    issued = intake.runtime.keystore.new_key(role, agency_code)
    await publish_and_wait(intake, issued.event)
    return issued.key


@pytest.fixture
async def intake(database: TestDatabase, natsd: Any, tmp_path: Path) -> AsyncIterator[Intake]:
    settings = service_settings(IntakeSettings, database, natsd, tmp_path)
    async with running_service("intake_svc", create_app, settings) as (app, client), test_bus(natsd) as bus:
        yield Intake(app=app, client=client, bus=bus, settings=settings, database=database)


@asynccontextmanager
async def limited_intake(
    database: TestDatabase, natsd: Any, tmp_path: Path, *, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[Intake]:
    """intake with settings of the test's own (its limits, say) and, if given, a clock the test moves."""
    settings = service_settings(IntakeSettings, database, natsd, tmp_path, **overrides)
    async with (
        running_service("intake_svc", create_app, settings, clock=clock) as (app, client),
        test_bus(natsd) as bus,
    ):
        yield Intake(app=app, client=client, bus=bus, settings=settings, database=database)


def client_at(intake: Intake, host: str) -> httpx.AsyncClient:
    """An HTTP client whose requests reach intake from the peer address `host`."""
    transport = httpx.ASGITransport(app=intake.app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
