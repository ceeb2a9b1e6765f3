"""A deactivated node's keys stop working in every service: routing revokes them (auth.key_revoked through its
outbox), and agency_svc and notify_svc, fed over the real broker, refuse them too. Reactivation brings none back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from agency_svc.app import create_app as agency_app
from agency_svc.settings import AgencySettings
from notify_svc.app import create_app as notify_app
from notify_svc.settings import NotifySettings
from routing_svc.app import create_app as routing_app
from routing_svc.models import Node
from routing_svc.settings import RoutingSettings
from services.natsd import NatsServer
from shared.runtime import Runtime
from tests.support.apps import ADMIN_KEY, auth, eventually, running_service, service_settings
from tests.support.databases import fresh_database

ADMIN = auth(ADMIN_KEY)
NODE = "KANWIL-JATIM"
CHILD = "LAPAS-SBY"
HUB = "/api/v1/hub"
ASKS = {
    "routing": f"{HUB}/agencies/{NODE}",
    "agency": "/api/v1/agency/webhooks",
    "notify": "/api/v1/notify/deliveries",
}
"""One keyed GET per service. Only agency_svc serves agency keys; the others answer them 403 while they are valid."""

Clients = dict[str, httpx.AsyncClient]


@dataclass
class Services:
    clients: Clients
    routing: Runtime[Any]


@pytest.fixture
async def hub(backend: str, natsd: NatsServer, tmp_path: Path) -> AsyncIterator[Services]:
    apps: list[tuple[str, type[Any], Any]] = [
        ("routing", RoutingSettings, routing_app),
        ("agency", AgencySettings, agency_app),
        ("notify", NotifySettings, notify_app),
    ]
    async with AsyncExitStack() as stack:
        clients: Clients = {}
        runtimes: dict[str, Runtime[Any]] = {}
        for name, settings_cls, create_app in apps:
            database = await stack.enter_async_context(fresh_database(backend, tmp_path, name))
            settings = service_settings(settings_cls, database, natsd, tmp_path)
            app, clients[name] = await stack.enter_async_context(running_service(f"{name}_svc", create_app, settings))
            runtimes[name] = app.state.runtime
        yield Services(clients, runtimes["routing"])


async def _node(routing: httpx.AsyncClient, code: str, parent: str | None) -> None:
    body = {"code": code, "name": f"Kantor {code}", "kind": "kanwil" if parent is None else "upt"}
    if parent is not None:
        body["parent_code"] = parent
    answer = await routing.post(f"{HUB}/agencies", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text


async def _key(routing: httpx.AsyncClient, code: str) -> str:
    answer = await routing.post(f"{HUB}/agencies/{code}/api-keys", json={"label": "sistem"}, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


async def _statuses(clients: Clients, key: str) -> dict[str, int]:
    return {name: (await clients[name].get(path, headers=auth(key))).status_code for name, path in ASKS.items()}


async def _until(clients: Clients, key: str, expected: dict[str, int]) -> None:
    async def probe() -> bool:
        return await _statuses(clients, key) == expected

    await eventually(probe, timeout=20)


async def _active(routing: httpx.AsyncClient, code: str, active: bool) -> None:
    answer = await routing.patch(f"{HUB}/agencies/{code}", json={"is_active": active}, headers=ADMIN)
    assert answer.status_code == 200, answer.text


async def test_a_deactivated_nodes_keys_are_refused_everywhere_and_stay_so(hub: Services) -> None:
    services = hub.clients
    routing = services["routing"]
    await _node(routing, NODE, None)
    await _node(routing, CHILD, NODE)
    key, rotated, child_key = await _key(routing, NODE), await _key(routing, NODE), await _key(routing, CHILD)
    # A rotation's old key works through its grace: deactivation cuts the grace short too.
    keys = (await routing.get(f"{HUB}/agencies/{NODE}/api-keys", headers=ADMIN)).json()["items"]
    rotating = next(k["key_id"] for k in keys if rotated.startswith(k["prefix"]))
    answer = await routing.post(f"{HUB}/api-keys/{rotating}/rotate", json={"grace_seconds": 3600}, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    successor = str(answer.json()["key"])
    valid = {"routing": 403, "agency": 200, "notify": 403}
    for k in (key, rotated, successor, child_key):
        await _until(services, k, valid)

    await _active(routing, NODE, False)

    refused = dict.fromkeys(ASKS, 401)
    for k in (key, rotated, successor):
        await _until(services, k, refused)
    assert (await _statuses(services, child_key)) == valid  # the node below keeps its own keys
    body = (await services["agency"].get(ASKS["agency"], headers=auth(key))).json()
    assert body["error"]["code"] == "unauthenticated", body
    listed = (await routing.get(f"{HUB}/agencies/{NODE}/api-keys", headers=ADMIN)).json()["items"]
    assert [k["is_active"] for k in listed] == [False] * 3
    answer = await routing.post(f"{HUB}/agencies/{NODE}/api-keys", json={}, headers=ADMIN)
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "agency_inactive")

    await _active(routing, NODE, True)
    fresh = await _key(routing, NODE)
    await _until(services, fresh, valid)
    for k in (key, rotated, successor):
        assert await _statuses(services, k) == refused


async def test_a_key_left_working_on_an_inactive_node_cannot_be_rotated_and_goes_with_the_next_update(
    hub: Services,
) -> None:
    """As a key issued before deactivation revoked keys would be: its node inactive, the key still valid."""
    services = hub.clients
    routing = services["routing"]
    await _node(routing, NODE, None)
    key = await _key(routing, NODE)
    await _until(services, key, {"routing": 403, "agency": 200, "notify": 403})
    async with hub.routing.db.session() as session, session.begin():
        await session.execute(update(Node).where(Node.code == NODE).values(is_active=False))
    key_id = (await routing.get(f"{HUB}/agencies/{NODE}/api-keys", headers=ADMIN)).json()["items"][0]["key_id"]

    answer = await routing.post(f"{HUB}/api-keys/{key_id}/rotate", json={"grace_seconds": 60}, headers=ADMIN)
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "agency_inactive"), answer.text
    await _active(routing, NODE, False)
    await _until(services, key, dict.fromkeys(ASKS, 401))
