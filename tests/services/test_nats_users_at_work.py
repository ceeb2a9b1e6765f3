"""The four services at work on a broker that admits only the hub's users, each service as its own user: they find
their streams, bind their durables, consume and ack, publish their events and dead-letter what they cannot read,
and the server records no permission violation on the way."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agency_svc.app import create_app as agency_app
from agency_svc.settings import AgencySettings
from intake_svc.app import create_app as intake_app
from intake_svc.settings import IntakeSettings
from notify_svc.app import create_app as notify_app
from notify_svc.settings import NotifySettings
from routing_svc.app import create_app as routing_app
from routing_svc.settings import RoutingSettings
from services.nats_users import GRANTS, OPS, USERS, hub_users
from services.natsd import NatsServer
from services.up import create_streams
from shared.bus import PRIVATE_STREAM, STREAM, Bus
from shared.bus.dlq import iter_dead_letters
from shared.events.contracts import PRIVATE_ROOT
from shared.runtime import Runtime
from tests.support.apps import ADMIN_KEY, auth, eventually, running_service, service_settings
from tests.support.databases import fresh_database

PASSWORDS = {user: secrets.token_urlsafe(32) for user in USERS}
ADMIN = auth(ADMIN_KEY)
NODE = "KANWIL-JATIM"


@dataclass
class Hub:
    server: NatsServer
    clients: dict[str, httpx.AsyncClient]
    runtimes: dict[str, Runtime]
    ops: Bus


@pytest.fixture
async def hub(backend: str, tmp_path: Path) -> AsyncIterator[Hub]:
    server = NatsServer(data_dir=tmp_path / "nats", users=hub_users(PASSWORDS))
    server.start()
    apps: list[tuple[str, type[Any], Any]] = [
        ("intake", IntakeSettings, intake_app),
        ("routing", RoutingSettings, routing_app),
        ("agency", AgencySettings, agency_app),
        ("notify", NotifySettings, notify_app),
    ]
    try:
        await create_streams(server.url, PASSWORDS[OPS])
        async with AsyncExitStack() as stack:
            clients: dict[str, httpx.AsyncClient] = {}
            runtimes: dict[str, Runtime] = {}
            for name, settings_cls, create_app in apps:
                database = await stack.enter_async_context(fresh_database(backend, tmp_path, name))
                settings = service_settings(
                    settings_cls, database, server, tmp_path, nats_user=name, nats_password=PASSWORDS[name]
                )
                app, client = await stack.enter_async_context(running_service(f"{name}_svc", create_app, settings))
                clients[name] = client
                runtimes[name] = _runtime(app)
            ops = Bus(server.url, name="test-ops", user=OPS, password=PASSWORDS[OPS])
            await ops.connect()
            stack.push_async_callback(ops.close)
            yield Hub(server=server, clients=clients, runtimes=runtimes, ops=ops)
    finally:
        server.stop()


def _runtime(app: FastAPI) -> Runtime[Any]:
    runtime: Runtime[Any] = app.state.runtime
    return runtime


async def test_each_service_works_within_its_own_permissions(hub: Hub) -> None:
    for name, runtime in hub.runtimes.items():
        assert runtime.bus.is_connected
        assert {(c.sub.stream, c.sub.name) for c in runtime.consumers} == set(GRANTS[name].durables), name

    routing, agency, intake = hub.clients["routing"], hub.clients["agency"], hub.clients["intake"]
    node = {"code": NODE, "name": "Kanwil Jawa Timur", "kind": "instansi", "parent_code": None, "timezone": "WIB"}
    assert (await routing.post("/api/v1/hub/agencies", json=node, headers=ADMIN)).status_code == 201
    issued = await routing.post(f"/api/v1/hub/agencies/{NODE}/api-keys", json={}, headers=ADMIN)
    assert issued.status_code == 201, issued.text
    key = auth(issued.json()["key"])
    await eventually(lambda: _status_is(agency, "/api/v1/agency/complaints", key, 200))

    body = {
        "title": "Layanan kunjungan dipungut biaya",
        "content": "Petugas meminta uang untuk kunjungan keluarga.",
        "classification": "pengaduan",
        "category": "pemasyarakatan",
        "region_code": "3578",
        "agency_code": NODE,
        "reporter": {"name": "Siti Aminah", "email": "siti@example.test"},
    }
    created = await intake.post("/api/v1/complaints", json=body)
    assert created.status_code == 201, created.text
    receipt = created.json()
    tid = receipt["tracking_id"]
    await eventually(lambda: _status_is(agency, f"/api/v1/agency/complaints/{tid}", key, 200))
    final = {"content": "Pungutan dihentikan; petugas diperiksa.", "is_final": True}
    assert (await agency.post(f"/api/v1/agency/complaints/{tid}/acknowledge", headers=key)).status_code == 200
    assert (
        await agency.post(f"/api/v1/agency/complaints/{tid}/follow-ups", json=final, headers=key)
    ).status_code == 201

    async def answered() -> bool:
        view = await intake.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": receipt["receipt"]})
        return view.json().get("status") == "answered" and bool(view.json()["follow_ups"])

    await eventually(answered)
    published = {
        "intake": ["simpul.complaint.submitted", f"{PRIVATE_ROOT}.contact.registered"],
        "routing": [
            "simpul.directory.node_upserted",
            "simpul.category.changed",
            "simpul.auth.key_issued",
            f"simpul.complaint.dispositioned.{NODE}",
            "simpul.complaint.status_changed",
        ],
        "agency": ["simpul.agency.acknowledged", "simpul.followup.posted"],
    }
    for subjects in published.values():
        for subject in subjects:
            await eventually(partial(_stored, hub.ops, subject))

    # A message no durable can read is dead-lettered at once, by the service that holds the durable.
    for subject in (
        "simpul.complaint.submitted",
        "simpul.complaint.status_changed",
        "simpul.auth.key_issued",
        "simpul.category.changed",
        f"{PRIVATE_ROOT}.contact.registered",
    ):
        await hub.ops.publish(subject, b"not an event", headers={"Nats-Msg-Id": f"bad-{uuid.uuid4()}"})
    durables = {durable for grants in GRANTS.values() for _, durable in grants.durables}
    await eventually(lambda: _dead_lettered_by(hub.ops, durables))
    for grants in GRANTS.values():
        for stream, durable in grants.durables:
            await eventually(partial(_all_acked, hub.ops, stream, durable))

    log = (hub.server.data_dir / "nats-server.log").read_text()
    assert "Violation" not in log, [line for line in log.splitlines() if "Violation" in line]
    assert set(GRANTS) <= await _connected_users(hub.server)


async def _status_is(client: httpx.AsyncClient, path: str, headers: dict[str, str], status: int) -> bool:
    return (await client.get(path, headers=headers)).status_code == status


async def _stored(ops: Bus, subject: str) -> bool:
    stream = PRIVATE_STREAM if subject.startswith(PRIVATE_ROOT) else STREAM
    info = await ops.js.stream_info(stream, subjects_filter=subject)
    return bool((info.state.subjects or {}).get(subject))


async def _dead_lettered_by(ops: Bus, durables: set[str]) -> set[str] | None:
    found = {letter.durable async for letter in iter_dead_letters(ops.js)}
    return found if found == durables else None


async def _all_acked(ops: Bus, stream: str, durable: str) -> bool:
    info = await ops.js.consumer_info(stream, durable)
    return bool(info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0)


async def _connected_users(server: NatsServer) -> set[str]:
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://{server.host}:{server.monitor_port}/connz?auth=true")
    return {c.get("authorized_user", "") for c in r.json()["connections"]}
