"""Safe retries of the coordinators' and admins' POSTs: an Idempotency-Key does the action once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from routing_svc.models import KIT
from shared.http.idempotency import REPLAYED_HEADER
from tests.routing_svc.conftest import Hub
from tests.support.apps import ADMIN_KEY, auth

DECISION = {"action": "dispose", "agency_code": "PEMKOT-SBY", "reason": "Jalan kota"}


def keyed(key: str, api_key: str = ADMIN_KEY) -> dict[str, str]:
    return {**auth(api_key), "Idempotency-Key": key}


async def effects(hub: Hub) -> tuple[int, int]:
    """What an action leaves behind: audit entries and outbox events."""
    async with hub.runtime.db.engine.connect() as conn:
        audit = (await conn.execute(select(func.count()).select_from(KIT.audit_log))).scalar_one()
        outbox = (await conn.execute(select(func.count()).select_from(KIT.outbox))).scalar_one()
    return int(audit), int(outbox)


@dataclass(frozen=True)
class Action:
    name: str
    prepare: Callable[[Hub], Awaitable[tuple[str, Any]]]
    """Gives the path and the JSON body."""


async def _decision(hub: Hub) -> tuple[str, Any]:
    await hub.node("PEMKOT-SBY")
    return f"/api/v1/hub/complaints/{await hub.submit(category='lain')}/decisions", DECISION


async def _agency(hub: Hub) -> tuple[str, Any]:
    return "/api/v1/hub/agencies", {"code": "PEMKOT-SBY", "name": "Pemkot Surabaya", "kind": "instansi"}


async def _agency_key(hub: Hub) -> tuple[str, Any]:
    await hub.node("PEMKOT-SBY")
    return "/api/v1/hub/agencies/PEMKOT-SBY/api-keys", {"label": "sistem pengaduan"}


async def _staff_key(hub: Hub) -> tuple[str, Any]:
    return "/api/v1/hub/api-keys", {"role": "coordinator"}


async def _rotate(hub: Hub) -> tuple[str, Any]:
    issued = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"})
    return f"/api/v1/hub/api-keys/{issued['key_id']}/rotate", {"grace_seconds": 60}


async def _policy(hub: Hub) -> tuple[str, Any]:
    return "/api/v1/hub/sla-policies", {"kind": "resolution", "working_days": 20}


async def _rule(hub: Hub) -> tuple[str, Any]:
    await hub.node("PEMKOT-SBY")
    return "/api/v1/hub/routing-rules", {"agency_code": "PEMKOT-SBY", "category": "jalan"}


ACTIONS = [
    Action("decision", _decision),
    Action("agency", _agency),
    Action("agency-key", _agency_key),
    Action("staff-key", _staff_key),
    Action("rotate", _rotate),
    Action("sla-policy", _policy),
    Action("routing-rule", _rule),
]


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
async def test_each_post_retried_with_its_key_is_done_once(hub: Hub, action: Action) -> None:
    path, body = await action.prepare(hub)
    headers = keyed(f"{action.name}-{uuid.uuid4()}")

    async def post() -> httpx.Response:
        return await hub.client.post(path, json=body, headers=headers)

    first = await post()
    assert first.status_code in (200, 201), first.text
    before = await effects(hub)
    again = await post()
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers[REPLAYED_HEADER] == "true"
    assert await effects(hub) == before, "nothing done twice"


async def test_an_issued_key_replayed_is_the_same_working_key(hub: Hub) -> None:
    headers = keyed("issue-1")
    first = await hub.client.post("/api/v1/hub/api-keys", json={"role": "coordinator"}, headers=headers)
    again = await hub.client.post("/api/v1/hub/api-keys", json={"role": "coordinator"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["key"] == again.json()["key"]
    listed = await hub.ok("GET", "/api/v1/hub/api-keys?role=coordinator", 200)
    assert [k["key_id"] for k in listed["items"]] == [first.json()["key_id"]]
    await hub.ok("GET", "/api/v1/hub/complaints", 200, key=first.json()["key"])


async def test_a_decision_with_a_used_key_and_another_body_is_422(hub: Hub) -> None:
    path, body = await _decision(hub)
    await hub.node("PEMPROV-JATIM")
    coordinator = (await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"}))["key"]
    headers = keyed("decide-1", coordinator)
    assert (await hub.client.post(path, json=body, headers=headers)).status_code == 200
    r = await hub.client.post(path, json={**body, "agency_code": "PEMPROV-JATIM"}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "idempotency_key_mismatch"
    assert (await hub.case(path.split("/")[-2]))["agency_code"] == "PEMKOT-SBY"


async def test_two_concurrent_decisions_with_one_key_act_once(hub: Hub) -> None:
    path, body = await _decision(hub)
    answers = await asyncio.gather(
        *(hub.client.post(path, json=body, headers=keyed("decide-at-once")) for _ in range(3))
    )
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    assert len({str(r.json()) for r in answers}) == 1
    case = await hub.case(path.split("/")[-2])
    assert case["case_version"] == answers[0].json()["case_version"]
    assert case["history"] == answers[0].json()["history"]


async def test_every_hub_post_declares_the_header(hub: Hub) -> None:
    paths = hub.app.openapi()["paths"]
    posts = {path: item["post"] for path, item in paths.items() if "post" in item}
    assert len(posts) == 8, sorted(posts)
    for path, operation in posts.items():
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in names, path
