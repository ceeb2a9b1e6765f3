"""routing_svc's audit trail: every privileged action and every case transition, hash-chained, and no reporter in it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from routing_svc.categories.service import SEED_ACTOR
from routing_svc.models import KIT
from shared.audit import Verdict, verify_database
from shared.events.contracts import AgencyAcknowledged, FollowupPosted, ReporterWithdrew
from tests.routing_svc.conftest import Hub
from tests.support.apps import ADMIN_KEY

BOOTSTRAP_ADMIN = "admin:bootstra"


async def trail(hub: Hub) -> list[Any]:
    log = KIT.audit_log
    async with hub.runtime.db.engine.connect() as conn:
        return list((await conn.execute(select(log).order_by(log.c.seq))).all())


def entries(rows: list[Any], action: str) -> list[Any]:
    return [r for r in rows if r.action == action]


async def test_privileged_actions_are_in_the_trail(hub: Hub) -> None:
    await hub.node("KEMEN")
    await hub.node("KANWIL", kind="kanwil", parent="KEMEN")
    await hub.ok("PATCH", "/api/v1/hub/agencies/KANWIL", 200, json={"name": "Kanwil Jawa Timur", "is_active": False})
    agency_key = await hub.ok("POST", "/api/v1/hub/agencies/KEMEN/api-keys", 201, json={"label": "SIMPEG"})
    coordinator = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"})
    await hub.ok("DELETE", f"/api/v1/hub/api-keys/{agency_key['key_id']}", 204)
    await hub.ok("DELETE", f"/api/v1/hub/api-keys/{agency_key['key_id']}", 204)  # already revoked: no entry
    kept = await hub.rule(agency_code="KEMEN", category="pemasyarakatan", keywords=["pungutan"])
    dropped = await hub.rule(agency_code="KEMEN", region_code="35")
    await hub.ok("DELETE", f"/api/v1/hub/routing-rules/{dropped['id']}", 204)
    policy = await hub.ok("POST", "/api/v1/hub/sla-policies", 201, json={"kind": "resolution", "working_days": 20})
    await hub.ok("PATCH", f"/api/v1/hub/sla-policies/{policy['id']}", 200, json={"working_days": 25})
    await hub.ok("DELETE", f"/api/v1/hub/sla-policies/{policy['id']}", 204)
    await hub.ok("POST", "/api/v1/hub/api-keys", 403, key=coordinator["key"], json={"role": "admin"})  # refused
    category = {"code": "rsud", "name": "RSUD", "name_en": "Regional hospitals", "parent_code": "rumah-sakit"}
    await hub.ok("POST", "/api/v1/hub/categories", 201, json=category)
    await hub.ok("PATCH", "/api/v1/hub/categories/rsud", 200, json={"is_active": False})

    everything = await trail(hub)
    seeded = [r for r in everything if r.actor == SEED_ACTOR]
    assert seeded == everything[: len(seeded)] and len(seeded) > 12, "the default tree, seeded at start"
    assert {(r.action, r.target_type) for r in seeded} == {("category.create", "category")}
    rows = everything[len(seeded) :]
    coordinator_actor = f"coordinator:{coordinator['key_id'][:8]}"
    assert [(r.action, r.target_type, r.target_id) for r in rows] == [
        ("node.create", "node", "KEMEN"),
        ("node.create", "node", "KANWIL"),
        ("node.update", "node", "KANWIL"),
        ("key.issue", "key", agency_key["key_id"]),
        ("key.issue", "key", coordinator["key_id"]),
        ("key.revoke", "key", agency_key["key_id"]),
        ("rule.create", "rule", str(kept["id"])),
        ("rule.create", "rule", str(dropped["id"])),
        ("rule.delete", "rule", str(dropped["id"])),
        ("policy.create", "policy", str(policy["id"])),
        ("policy.update", "policy", str(policy["id"])),
        ("policy.delete", "policy", str(policy["id"])),
        ("category.create", "category", "rsud"),
        ("category.update", "category", "rsud"),
    ]
    assert {r.actor for r in rows} == {BOOTSTRAP_ADMIN} and coordinator_actor not in {r.actor for r in rows}
    assert [r.seq for r in everything] == list(range(1, len(everything) + 1))
    details = [json.loads(r.details) for r in rows]
    assert details[2]["fields"] == ["is_active", "name"] and details[2]["is_active"] is False
    assert details[3] == {
        "agency_code": "KEMEN",
        "expires_at": None,
        "prefix": agency_key["prefix"],
        "role": "agency",
    }
    assert details[6]["keywords"] == ["pungutan"] and details[6]["agency_code"] == "KEMEN"
    assert details[10]["working_days"] == 25 and details[10]["previous_working_days"] == 20
    assert all(agency_key["key"] not in r.details and coordinator["key"] not in r.details for r in rows)
    assert all(r.at is not None for r in rows)
    assert json.loads(rows[13].details) == {"fields": ["is_active"], "is_active": False, "parent_code": "rumah-sakit"}
    verdict = await verify_database(hub.settings.resolved_database_url(), hub.settings.database_schema)
    assert verdict == Verdict(len(everything))


async def test_case_transitions_and_decisions_are_in_the_trail(hub: Hub) -> None:
    await hub.node("KEMEN")
    await hub.node("OTHER")
    await hub.rule(agency_code="KEMEN", category="pemasyarakatan")
    coordinator = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"})
    actor = f"coordinator:{coordinator['key_id'][:8]}"
    before = len(await trail(hub))

    routed = await hub.submit(reporter_name="Siti Aminah")
    waiting = await hub.submit(category="lainnya", reporter_name="Siti Aminah")
    await hub.ok(
        "PATCH", f"/api/v1/hub/complaints/{routed}", 200, key=coordinator["key"], json={"berkadar_pengawasan": True}
    )
    decision = {"action": "dispose", "agency_code": "OTHER", "reason": "wewenang OTHER"}
    await hub.ok("POST", f"/api/v1/hub/complaints/{waiting}/decisions", 200, key=coordinator["key"], json=decision)
    refused = {"action": "postpone", "reason": "lengkapi"}
    await hub.ok("POST", f"/api/v1/hub/complaints/{waiting}/decisions", 409, key=coordinator["key"], json=refused)

    rows = (await trail(hub))[before:]
    assert [(r.action, r.target_id, r.actor) for r in rows] == [
        ("case.dispose", routed, "routing"),
        ("case.note", waiting, "routing"),
        ("case.note", routed, actor),
        ("case.dispose", waiting, actor),
    ]
    dispose = json.loads(rows[0].details)
    assert dispose == {
        "agency_code": "KEMEN",
        "case_version": 1,
        "from_status": "submitted",
        "route_kind": "rule",
        "rule_id": dispose["rule_id"],
        "to_status": "dispositioned",
    }
    assert json.loads(rows[1].details)["reason_code"] == "triage" and "triage" in rows[1].reason
    assert json.loads(rows[2].details)["reason_code"] == "berkadar_pengawasan"
    assert rows[3].reason == "wewenang OTHER" and json.loads(rows[3].details)["route_kind"] == "coordinator"
    history = (await hub.case(waiting))["history"]
    assert history[-1]["actor"] == rows[3].actor and history[-1]["reason"] == rows[3].reason
    everything = await trail(hub)
    assert all("Siti" not in f"{r.actor} {r.reason} {r.details}" for r in everything), "no reporter in the trail"
    verdict = await verify_database(hub.settings.resolved_database_url(), hub.settings.database_schema)
    assert verdict == Verdict(len(everything))


async def test_agency_events_and_reporter_events_are_transitions_in_the_trail(hub: Hub) -> None:
    await hub.node("KEMEN")
    await hub.rule(agency_code="KEMEN")
    tid = await hub.submit()
    now = datetime.now(UTC)
    await hub.publish_and_wait(
        AgencyAcknowledged(tracking_id=tid, agency_code="KEMEN", actor="agency:KEMEN", acknowledged_at=now)
    )
    await hub.publish_and_wait(
        FollowupPosted(
            tracking_id=tid,
            followup_id="f-1",
            agency_code="KEMEN",
            agency_name="Kemen",
            content="Sudah ditindaklanjuti",
            is_final=True,
            actor="agency:KEMEN",
            posted_at=now,
        )
    )
    await hub.publish_and_wait(ReporterWithdrew(tracking_id=tid, reason="sudah selesai sendiri", withdrawn_at=now))

    rows = [r for r in await trail(hub) if r.target_id == tid]
    assert [(r.action, r.actor) for r in rows] == [
        ("case.dispose", "routing"),
        ("case.acknowledge", "agency:KEMEN"),
        ("case.answer", "agency:KEMEN"),
        ("case.withdraw", "reporter"),
    ]
    assert "Sudah ditindaklanjuti" not in str([r.details for r in rows]), "follow-up text stays out"
    assert json.loads(rows[-1].details)["to_status"] == "rejected"
    assert ADMIN_KEY not in str([tuple(r) for r in rows])
