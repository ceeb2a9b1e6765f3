"""agency_svc running in-process against the per-test nats-server and database, with its replicas seeded by events."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agency_svc.app import create_app
from agency_svc.models import Case
from agency_svc.settings import AgencySettings
from shared.bus import Bus
from shared.domain import Channel, Classification, Role, RouteKind, Status
from shared.events.contracts import (
    CaseSnapshot,
    ComplaintDispositioned,
    ComplaintStatusChanged,
    KeyIssued,
    KeyRevoked,
    NodeUpserted,
)
from shared.runtime import Runtime
from tests.support.apps import (
    IDENTITY,
    auth,
    eventually,
    publish,
    running_service,
    service_settings,
    stream_events,
    test_bus,
)
from tests.support.databases import TestDatabase

# code -> (kind, path from the root, ending with the node itself)
TREE: dict[str, tuple[str, list[str]]] = {
    "KEMEN": ("instansi", ["KEMEN"]),
    "KANWIL": ("kanwil", ["KEMEN", "KANWIL"]),
    "UPT": ("upt", ["KEMEN", "KANWIL", "UPT"]),
    "OTHER": ("instansi", ["OTHER"]),
}


def snapshot(**overrides: Any) -> CaseSnapshot:
    values: dict[str, Any] = {
        "title": "Layanan kunjungan dipungut biaya",
        "content": "Petugas meminta uang untuk kunjungan keluarga.",
        "classification": Classification.pengaduan,
        "category": "pemasyarakatan",
        "region_code": "3578",
        "channel": Channel.web,
        "incident_date": date(2025, 3, 1),
        "is_anonymous": False,
        "is_confidential": False,
        "reporter_name_sealed": IDENTITY.seal("Siti Aminah"),
        "submitted_at": datetime(2025, 3, 2, 8, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return CaseSnapshot(**values)


def new_tid() -> str:
    return f"LPR-{uuid.uuid4().hex[:12].upper()}"


@dataclass
class Agency:
    app: FastAPI
    client: httpx.AsyncClient
    bus: Bus
    keys: dict[str, str] = field(default_factory=dict)
    key_events: dict[str, KeyIssued] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def h(self, who: str) -> dict[str, str]:
        return auth(self.keys[who])

    async def node(
        self, code: str, kind: str, path: list[str], *, name: str | None = None, active: bool = True
    ) -> None:
        parent = path[-2] if len(path) > 1 else None
        await publish(
            self.bus,
            NodeUpserted(
                code=code,
                name=name or f"Kantor {code}",
                kind=kind,
                parent_code=parent,
                path=path,
                timezone="Asia/Jakarta",
                is_active=active,
            ),
        )

    async def issue_key(self, who: str, role: Role, agency_code: str | None = None) -> str:
        issued = self.runtime.keystore.new_key(role, agency_code)
        await publish(self.bus, issued.event)
        self.keys[who] = issued.key
        self.key_events[who] = issued.event
        return issued.key

    async def revoke_key(self, who: str) -> None:
        await publish(self.bus, KeyRevoked(key_id=self.key_events[who].key_id, revoked_at=datetime.now(UTC)))

    async def seed_tree(self) -> None:
        for code, (kind, path) in TREE.items():
            await self.node(code, kind, path)
            await self.issue_key(code, Role.agency, code)
        await self.issue_key("coordinator", Role.coordinator)
        await self.issue_key("admin", Role.admin)
        for code in TREE:
            await eventually(functools.partial(self.ok_inbox, code))
        for who in ("coordinator", "admin"):
            await eventually(functools.partial(self.status_of_inbox, who, 403))

    async def ok_inbox(self, who: str) -> bool:
        return (await self.client.get("/api/v1/agency/complaints", headers=self.h(who))).status_code == 200

    async def status_of_inbox(self, who: str, status: int) -> bool:
        return (await self.client.get("/api/v1/agency/complaints", headers=self.h(who))).status_code == status

    async def dispose(
        self,
        tracking_id: str,
        agency_code: str,
        case_version: int,
        *,
        previous: str | None = None,
        route_kind: RouteKind = RouteKind.rule,
        **snap: Any,
    ) -> ComplaintDispositioned:
        event = ComplaintDispositioned(
            tracking_id=tracking_id,
            agency_code=agency_code,
            previous_agency_code=previous,
            route_kind=route_kind,
            rule_id="rule-1" if route_kind is RouteKind.rule else None,
            reason="Aturan pemasyarakatan",
            actor="system",
            case_version=case_version,
            case=snapshot(**snap),
        )
        await publish(self.bus, event)
        return event

    async def status(
        self,
        tracking_id: str,
        status: Status,
        case_version: int,
        *,
        agency_code: str | None,
        previous: Status | None = None,
    ) -> None:
        await publish(
            self.bus,
            ComplaintStatusChanged(
                tracking_id=tracking_id,
                status=status,
                previous_status=previous,
                agency_code=agency_code,
                actor="system",
                case_version=case_version,
                changed_at=datetime.now(UTC),
            ),
        )

    async def inbox(self, who: str, **params: Any) -> list[str]:
        r = await self.client.get("/api/v1/agency/complaints", params=params, headers=self.h(who))
        assert r.status_code == 200, r.text
        return [c["tracking_id"] for c in r.json()["items"]]

    async def case(self, who: str, tracking_id: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/agency/complaints/{tracking_id}", headers=self.h(who))

    async def case_json(self, who: str, tracking_id: str) -> dict[str, Any]:
        r = await self.case(who, tracking_id)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def post(self, who: str, tracking_id: str, action: str, body: Any = None) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/agency/complaints/{tracking_id}/{action}", json=body, headers=self.h(who)
        )

    async def stored(self, tracking_id: str) -> Case | None:
        async with self.runtime.db.session() as session:
            return await session.get(Case, tracking_id)

    async def wait_case(self, who: str, tracking_id: str, **expected: Any) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            r = await self.case(who, tracking_id)
            if r.status_code != 200:
                return None
            body = dict(r.json())
            return body if all(body.get(k) == v for k, v in expected.items()) else None

        return await eventually(probe)


async def events_for(bus: Bus, subject: str, tracking_id: str) -> list[dict[str, Any]]:
    return [e for e in await stream_events(bus, subject) if e["data"].get("tracking_id") == tracking_id]


@pytest.fixture
async def agency(database: TestDatabase, natsd: Any, tmp_path: Path) -> AsyncIterator[Agency]:
    settings = service_settings(AgencySettings, database, natsd, tmp_path)
    async with running_service("agency_svc", create_app, settings) as (app, client), test_bus(natsd) as bus:
        yield Agency(app=app, client=client, bus=bus)


@pytest.fixture
async def tree(agency: Agency) -> Agency:
    await agency.seed_tree()
    return agency
