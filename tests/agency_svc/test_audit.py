"""agency_svc's audit trail: each action an agency key takes on a case, hash-chained, without the follow-up's text."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from agency_svc.models import KIT
from shared.audit import Verdict, verify_database
from tests.agency_svc.conftest import Agency, new_tid


async def trail(tree: Agency) -> list[Any]:
    log = KIT.audit_log
    async with tree.runtime.db.engine.connect() as conn:
        return list((await conn.execute(select(log).order_by(log.c.seq))).all())


async def disposed(tree: Agency, holder: str) -> str:
    tid = new_tid()
    await tree.dispose(tid, holder, 1)
    await tree.wait_case(holder, tid, status="dispositioned", agency_code=holder)
    return tid


async def test_each_action_of_an_agency_key_is_in_the_trail(tree: Agency) -> None:
    answered, forwarded, delegated = [await disposed(tree, h) for h in ("UPT", "UPT", "KANWIL")]
    ok = {"acknowledge": 200, "follow-ups": 201, "forward": 202, "delegate": 202}
    steps: list[tuple[str, str, str, Any]] = [
        ("UPT", answered, "acknowledge", None),
        ("UPT", answered, "acknowledge", None),  # again: changes nothing, no entry
        ("KANWIL", answered, "follow-ups", {"content": "Petugas diperiksa.", "is_final": True}),
        ("UPT", forwarded, "forward", {"reason": "bukan wewenang", "suggested_agency_code": "OTHER"}),
        ("KANWIL", delegated, "delegate", {"agency_code": "UPT", "reason": "ditangani UPT"}),
        ("OTHER", delegated, "acknowledge", None),  # another node's case: 404, no entry
    ]
    for who, tid, action, body in steps:
        r = await tree.post(who, tid, action, body)
        assert r.status_code == (404 if who == "OTHER" else ok[action]), r.text

    rows = await trail(tree)
    assert [(r.seq, r.action, r.target_type, r.target_id, r.actor) for r in rows] == [
        (1, "agency.acknowledge", "case", answered, "agency:UPT"),
        (2, "agency.follow_up", "case", answered, "agency:KANWIL"),
        (3, "agency.forward", "case", forwarded, "agency:UPT"),
        (4, "agency.delegate", "case", delegated, "agency:KANWIL"),
    ]
    details = [json.loads(r.details) for r in rows]
    assert details[0] == {"agency_code": "UPT", "key_id": tree.key_events["UPT"].key_id}
    assert details[1]["is_final"] is True and details[1]["followup_id"]
    assert rows[2].reason == "bukan wewenang" and details[2]["suggested_agency_code"] == "OTHER"
    assert rows[3].reason == "ditangani UPT" and details[3]["target_agency_code"] == "UPT"
    assert all("Petugas diperiksa" not in str(tuple(r)) and "Siti" not in str(tuple(r)) for r in rows)
    settings = tree.runtime.settings
    assert await verify_database(settings.resolved_database_url(), settings.database_schema) == Verdict(4)
