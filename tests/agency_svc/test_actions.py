"""The work on a case: acknowledge, follow-ups, forward and delegate, and the events they put on the stream."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from agency_svc.models import KIT
from shared.domain import Status
from tests.agency_svc.conftest import Agency, events_for, new_tid
from tests.support.apps import eventually


async def _disposed(tree: Agency, holder: str, version: int = 1) -> str:
    tid = new_tid()
    await tree.dispose(tid, holder, version)
    await tree.wait_case(holder, tid, status="dispositioned", agency_code=holder, case_version=version)
    return tid


async def _published(tree: Agency, subject: str, tid: str, n: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = await events_for(tree.bus, subject, tid)
        return found if len(found) == n else None

    return await eventually(probe)


async def _outbox_drained(tree: Agency) -> bool:
    t = KIT.outbox
    async with tree.runtime.db.engine.connect() as conn:
        left = (await conn.execute(select(func.count()).select_from(t).where(t.c.published_at.is_(None)))).scalar()
    return left == 0


async def test_acknowledge_emits_once_and_is_idempotent(tree: Agency) -> None:
    tid = await _disposed(tree, "UPT")
    r = await tree.post("UPT", tid, "acknowledge")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["acknowledged_at"] is not None
    assert body["status"] == "dispositioned", "the hub, not this service, moves the status"
    [event] = await _published(tree, "simpul.agency.acknowledged", tid, 1)
    assert event["data"]["agency_code"] == "UPT"
    assert event["data"]["actor"] == "agency:UPT"
    assert event["correlation_id"] == tid

    again = await tree.post("KANWIL", tid, "acknowledge")
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == body["acknowledged_at"]
    # Once the hub says in_progress, acknowledging stays a quiet success.
    await tree.status(tid, Status.in_progress, 2, agency_code="UPT", previous=Status.dispositioned)
    await tree.wait_case("UPT", tid, status="in_progress")
    assert (await tree.post("UPT", tid, "acknowledge")).status_code == 200
    await eventually(lambda: _outbox_drained(tree))
    assert len(await events_for(tree.bus, "simpul.agency.acknowledged", tid)) == 1

    await tree.status(tid, Status.answered, 3, agency_code="UPT", previous=Status.in_progress)
    await tree.wait_case("UPT", tid, status="answered")
    r = await tree.post("UPT", tid, "acknowledge")
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"


async def test_follow_ups_progress_then_final_and_the_409_rules(tree: Agency) -> None:
    tid = await _disposed(tree, "UPT")
    r = await tree.post("UPT", tid, "follow-ups", {"content": "Sedang kami periksa.", "is_final": False})
    assert r.status_code == 201, r.text
    progress = r.json()
    assert progress["agency_code"] == "UPT" and progress["is_final"] is False
    assert progress["tracking_id"] == tid and progress["posted_at"].endswith(("Z", "+00:00"))

    # An ancestor answers on the holder's behalf: agency_code stays the holder, the author is the ancestor.
    final_body = {"content": "Pungutan dihentikan; petugas diperiksa.", "is_final": True}
    r = await tree.post("KANWIL", tid, "follow-ups", final_body)
    assert r.status_code == 201, r.text
    final = r.json()
    assert final["agency_code"] == "UPT" and final["author_code"] == "KANWIL" and final["is_final"] is True

    events = await _published(tree, "simpul.followup.posted", tid, 2)
    by_id = {e["data"]["followup_id"]: e["data"] for e in events}
    assert by_id[progress["followup_id"]]["is_final"] is False
    assert by_id[progress["followup_id"]]["agency_name"] == "Kantor UPT"
    assert by_id[final["followup_id"]] | {"posted_at": None} == {
        "tracking_id": tid,
        "followup_id": final["followup_id"],
        "agency_code": "UPT",
        "agency_name": "Kantor UPT",
        "content": final_body["content"],
        "is_final": True,
        "actor": "agency:KANWIL",
        "posted_at": None,
        "attachment_ids": [],
    }

    r = await tree.post("UPT", tid, "follow-ups", {"content": "Tambahan.", "is_final": False})
    assert r.status_code == 409 and r.json()["error"]["code"] == "final_follow_up_posted"
    await tree.status(tid, Status.answered, 2, agency_code="UPT", previous=Status.dispositioned)
    await tree.wait_case("UPT", tid, status="answered")
    r = await tree.post("UPT", tid, "follow-ups", {"content": "Tambahan.", "is_final": False})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"

    # The reporter disputes the answer: the hub reopens the case and the node may answer again.
    await tree.status(tid, Status.in_progress, 3, agency_code="UPT", previous=Status.answered)
    await tree.wait_case("UPT", tid, status="in_progress", final_posted_at=None)
    r = await tree.post("UPT", tid, "follow-ups", {"content": "Jawaban perbaikan.", "is_final": True})
    assert r.status_code == 201, r.text
    case = await tree.case_json("UPT", tid)
    assert [f["content"] for f in case["follow_ups"]] == [
        "Sedang kami periksa.",
        final_body["content"],
        "Jawaban perbaikan.",
    ]

    await tree.status(tid, Status.completed, 5, agency_code="UPT", previous=Status.answered)
    await tree.wait_case("UPT", tid, status="completed")
    r = await tree.post("UPT", tid, "follow-ups", {"content": "Lagi.", "is_final": False})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"


async def test_follow_up_input_is_validated(tree: Agency) -> None:
    tid = await _disposed(tree, "UPT")
    for body in (
        {"content": "", "is_final": False},
        {"content": "   ", "is_final": False},
        {"content": "x" * 20001, "is_final": False},
        {"is_final": True},
        {"content": "ok", "is_final": "maybe"},
    ):
        r = await tree.post("UPT", tid, "follow-ups", body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", body
    r = await tree.post("UPT", tid, "follow-ups", {"content": "x" * 20000, "is_final": False})
    assert r.status_code == 201


async def test_forward_requests_once_and_blocks_other_work(tree: Agency) -> None:
    tid = await _disposed(tree, "UPT")
    body = {"reason": "Jalan kota, bukan wewenang kami", "suggested_agency_code": "OTHER"}
    r = await tree.post("UPT", tid, "forward", body)
    assert r.status_code == 202, r.text
    case = r.json()
    assert case["status"] == "dispositioned" and case["forward_requested_at"] is not None
    assert case["suggested_agency_code"] == "OTHER"
    [event] = await _published(tree, "simpul.agency.forward_requested", tid, 1)
    assert {k: event["data"][k] for k in ("agency_code", "reason", "suggested_agency_code", "actor")} == {
        "agency_code": "UPT",
        "reason": body["reason"],
        "suggested_agency_code": "OTHER",
        "actor": "agency:UPT",
    }
    r = await tree.post("UPT", tid, "forward", {"reason": "Sekali lagi"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "forward_pending"
    r = await tree.post("UPT", tid, "follow-ups", {"content": "x", "is_final": False})
    assert r.status_code == 409 and r.json()["error"]["code"] == "forward_pending"

    answered = await _disposed(tree, "UPT")
    await tree.status(answered, Status.answered, 2, agency_code="UPT", previous=Status.in_progress)
    await tree.wait_case("UPT", answered, status="answered")
    r = await tree.post("UPT", answered, "forward", {"reason": "Terlambat"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"

    fresh = await _disposed(tree, "UPT")
    for bad in ({"reason": ""}, {"reason": "x" * 2001}, {"reason": "ok", "suggested_agency_code": "A B"}, {}):
        r = await tree.post("UPT", fresh, "forward", bad)
        assert r.status_code == 422, bad
    r = await tree.post("UPT", fresh, "forward", {"reason": "Tanpa saran"})
    assert r.status_code == 202
    [event] = await _published(tree, "simpul.agency.forward_requested", fresh, 1)
    assert event["data"]["suggested_agency_code"] is None


async def test_delegation_rules_and_event(tree: Agency) -> None:
    tid = await _disposed(tree, "KANWIL")
    refusals = (
        ("KANWIL", "KEMEN", 404),  # outside the key's subtree
        ("KANWIL", "OTHER", 404),
        ("KANWIL", "NOWHERE", 404),  # unknown to the directory
        ("KEMEN", "KEMEN", 422),  # inside the key's subtree, but above the holder
        ("KEMEN", "KANWIL", 422),  # the holder itself
        ("KANWIL", "KANWIL", 422),
        ("UPT", "UPT", 404),  # the UPT cannot see its Kanwil's case
    )
    for who, target, status in refusals:
        r = await tree.post(who, tid, "delegate", {"agency_code": target})
        assert r.status_code == status, (who, target, r.text)
        assert r.json()["error"]["code"] == ("not_found" if status == 404 else "invalid_delegation")
    r = await tree.post("KANWIL", tid, "delegate", {"agency_code": "bad code!"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"

    r = await tree.post("KEMEN", tid, "delegate", {"agency_code": "UPT", "reason": "Wilayah UPT"})
    assert r.status_code == 202, r.text
    assert r.json()["delegation_target_code"] == "UPT"
    assert r.json()["agency_code"] == "KANWIL", "the case moves when the hub re-disposes it"
    [event] = await _published(tree, "simpul.agency.delegated", tid, 1)
    assert {k: event["data"][k] for k in ("from_agency_code", "agency_code", "reason", "actor")} == {
        "from_agency_code": "KANWIL",
        "agency_code": "UPT",
        "reason": "Wilayah UPT",
        "actor": "agency:KEMEN",
    }
    r = await tree.post("KANWIL", tid, "delegate", {"agency_code": "UPT"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "delegation_pending"

    # The hub re-disposes to the UPT: it now sees the case, with fresh flags.
    await tree.dispose(tid, "UPT", 3, previous="KANWIL")
    case = await tree.wait_case("UPT", tid, agency_code="UPT")
    assert case["delegation_requested_at"] is None and case["previous_agency_code"] == "KANWIL"
    assert tid in await tree.inbox("KANWIL"), "the Kanwil still sees its UPT's case"
