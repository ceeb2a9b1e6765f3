"""routing_svc running in-process against the per-test nats-server and database, and a driver for it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from routing_svc.app import create_app
from routing_svc.models import KIT
from routing_svc.settings import RoutingSettings
from routing_svc.sla.sweep import sweep_once
from shared.bus import Bus
from shared.events import Envelope, EventData, encode_event, new_event
from shared.events.contracts import CaseSnapshot, ComplaintSubmitted
from shared.runtime import Runtime
from tests.support.apps import (
    ADMIN_KEY,
    IDENTITY,
    auth,
    eventually,
    publisher_of,
    running_service,
    service_settings,
    stream_events,
    test_bus,
)
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

ADMIN = auth(ADMIN_KEY)


def new_tid() -> str:
    return "LPR-" + uuid.uuid4().hex[:12].upper()


def submitted(
    tid: str,
    *,
    agency_code: str | None = None,
    title: str = "Pungutan liar di layanan kunjungan",
    content: str = "Petugas meminta uang untuk kunjungan keluarga.",
    classification: str = "pengaduan",
    category: str | None = "pemasyarakatan",
    region_code: str | None = "3578",
    is_anonymous: bool = False,
    reporter_name: str | None = "Siti Aminah",
    channel: str = "web",
) -> ComplaintSubmitted:
    return ComplaintSubmitted(
        tracking_id=tid,
        agency_code=agency_code,
        case=CaseSnapshot(
            title=title,
            content=content,
            classification=classification,
            category=category,
            region_code=region_code,
            channel=channel,
            is_anonymous=is_anonymous,
            is_confidential=False,
            reporter_name_sealed=None if is_anonymous else IDENTITY.seal_optional(reporter_name),
            submitted_at=datetime.now(UTC),
        ),
    )


@dataclass
class Hub:
    app: FastAPI
    client: httpx.AsyncClient
    bus: Bus
    settings: RoutingSettings

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def ok(self, method: str, path: str, status: int, key: str | None = ADMIN_KEY, **kwargs: Any) -> Any:
        r = await self.client.request(method, path, headers=auth(key) if key else None, **kwargs)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    async def node(self, code: str, kind: str = "instansi", parent: str | None = None, **extra: Any) -> dict:
        body = {"code": code, "name": f"Node {code}", "kind": kind, "parent_code": parent, "timezone": "WIB", **extra}
        return dict(await self.ok("POST", "/api/v1/hub/agencies", 201, json=body))

    async def rule(self, **body: Any) -> dict:
        return dict(await self.ok("POST", "/api/v1/hub/routing-rules", 201, json=body))

    async def publish(self, data: EventData, env: Envelope | None = None) -> Envelope:
        """Publish an event as a service's relay would.

        Pass `env` to deliver the very same envelope again: under a new Nats-Msg-Id, so JetStream does not drop it
        and only the consumer's inbox (processed event ids) stands between it and a second effect.
        """
        msg_id = f"again-{uuid.uuid4()}" if env else None
        env = env or new_event(data, source=publisher_of(data))
        await self.bus.publish(data.subject(), encode_event(env), headers={"Nats-Msg-Id": msg_id or str(env.id)})
        return env

    async def processed(self, env: Envelope) -> bool:
        t = KIT.processed_events
        async with self.runtime.db.engine.connect() as conn:
            found = await conn.execute(t.select().where(t.c.event_id == str(env.id)))
            return found.first() is not None

    async def publish_and_wait(self, data: EventData) -> Envelope:
        env = await self.publish(data)
        await eventually(lambda: self.processed(env))
        return env

    async def case(self, tid: str) -> dict:
        return dict(await self.ok("GET", f"/api/v1/hub/complaints/{tid}", 200))

    async def wait_status(self, tid: str, status: str) -> dict:
        async def probe() -> dict | None:
            r = await self.client.get(f"/api/v1/hub/complaints/{tid}", headers=ADMIN)
            return r.json() if r.status_code == 200 and r.json()["status"] == status else None

        return await eventually(probe)

    async def submit(self, tid: str | None = None, **kwargs: Any) -> str:
        """Publish complaint.submitted and wait until the hub has processed it."""
        tid = tid or new_tid()
        await self.publish_and_wait(submitted(tid, **kwargs))
        return tid

    async def events(self, subject: str) -> list[dict[str, Any]]:
        return await stream_events(self.bus, subject)

    @property
    def clock(self) -> ManualClock:
        clock = self.runtime.clock
        assert isinstance(clock, ManualClock), "this test needs the timed_hub fixture"
        return clock

    async def sweep(self) -> int:
        """Run the due-clock sweep once, now (as the worker would), and wait for its events to be published."""
        seen = await sweep_once(self.runtime.db, self.runtime.context, 1000)
        await eventually(self.outbox_drained)
        return seen

    async def outbox_drained(self) -> bool:
        t = KIT.outbox
        async with self.runtime.db.engine.connect() as conn:
            left = await conn.execute(select(func.count()).select_from(t).where(t.c.published_at.is_(None)))
            return left.scalar_one() == 0


START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 WIB: a working week, with Nyepi and Lebaran (18-24 March) ahead."""


@pytest.fixture
async def timed_hub(database: TestDatabase, natsd: Any, tmp_path: Path) -> AsyncIterator[Hub]:
    """routing_svc on a ManualClock standing at START; the sweep runs only when the test calls hub.sweep()."""
    settings = service_settings(RoutingSettings, database, natsd, tmp_path, sla_sweep_interval=3600)
    clock = ManualClock(START)
    async with (
        running_service("routing_svc", create_app, settings, clock=clock) as (app, client),
        test_bus(natsd) as bus,
    ):
        yield Hub(app=app, client=client, bus=bus, settings=settings)


@pytest.fixture
async def hub(database: TestDatabase, natsd: Any, tmp_path: Path) -> AsyncIterator[Hub]:
    settings = service_settings(RoutingSettings, database, natsd, tmp_path)
    async with running_service("routing_svc", create_app, settings) as (app, client), test_bus(natsd) as bus:
        yield Hub(app=app, client=client, bus=bus, settings=settings)
