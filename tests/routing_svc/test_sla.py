"""SLA clocks on the working-day calendar: deadlines, pauses, warnings, the escalation ladder, the reporter's silence,
retention, policies and the berkadar pengawasan flag. Time is a ManualClock the tests move; nothing sleeps.

The hub's clock starts at Monday 2 March 2026, 09:00 WIB (conftest.START). Deadlines counted by hand:

- verification, 3 working days: Tue 3, Wed 4, Thu 5 March -> end of Thu 5 March WIB = 2026-03-05T16:59:59.999999Z;
- first response, 5: 3, 4, 5, 6, 9 March -> 2026-03-09T16:59:59.999999Z; it warns when 80% of its working time
  (15 h of Monday + 5 days = 5.625 days; 80% = 4.5 days) is gone: Fri 6 March 21:00 WIB = 2026-03-06T14:00Z;
  its ladder: the liaison at the deadline, the parent 5 working days later (10-13, 16 March -> 2026-03-16T16:59Z),
  the coordinators 5 more (17, then 18-24 March are Nyepi, Idul Fitri and their cuti bersama, 25, 26, 27, 30 March
  -> 2026-03-30T16:59Z);
- resolution of a pengaduan, 14: 3-6, 9-13, 16, 17, 25, 26, 27 March -> 2026-03-27T16:59:59.999999Z.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from routing_svc.sla.engine import SlaEngine
from shared.domain import ScanStatus, UploaderKind
from shared.events.contracts import (
    AgencyAcknowledged,
    AttachmentAdded,
    AttachmentMeta,
    FollowupPosted,
    ReporterRated,
    ReporterReplied,
)
from tests.routing_svc.conftest import START, Hub

END_OF = "T16:59:59.999999Z"
"""23:59:59.999999 WIB, the end of a working day in Jakarta, in UTC."""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def tree(hub: Hub) -> None:
    await hub.node("KEMENKUMHAM")
    await hub.node(
        "KANWIL-JATIM",
        "kanwil",
        "KEMENKUMHAM",
        liaison_officers=[{"name": "Budi Santoso", "email": "budi@kanwil.example"}],
    )
    await hub.node("PEMKOT-JPR", timezone="WIT")


def clocks(case: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in case["clocks"] if c["name"] == name]


def one_clock(case: dict[str, Any], name: str, state: str | None = None) -> dict[str, Any]:
    found = [c for c in clocks(case, name) if state is None or c["state"] == state]
    assert len(found) == 1, (name, state, case["clocks"])
    return found[0]


async def events_of(hub: Hub, subject: str, tid: str) -> list[dict[str, Any]]:
    return [e for e in await hub.events(subject) if e["data"].get("tracking_id") == tid]


async def breached(hub: Hub, tid: str) -> list[dict[str, Any]]:
    """The case's clocks that breached (the hub tells no one of a breach but by its clocks and escalations)."""
    return [c for c in (await hub.case(tid))["clocks"] if c["state"] == "breached"]


async def move_to(hub: Hub, when: datetime | str) -> None:
    hub.clock.set(at(when) if isinstance(when, str) else when)
    await hub.sweep()


def ack(tid: str, code: str, when: datetime) -> AgencyAcknowledged:
    return AgencyAcknowledged(tracking_id=tid, agency_code=code, actor=f"agency:{code}", acknowledged_at=when)


def answer(tid: str, code: str, when: datetime) -> FollowupPosted:
    return FollowupPosted(
        tracking_id=tid,
        followup_id=f"fu-{tid}",
        agency_code=code,
        content="Sudah ditangani.",
        is_final=True,
        actor=f"agency:{code}",
        posted_at=when,
    )


def reply(tid: str, when: datetime, *, disputes: bool = False) -> ReporterReplied:
    return ReporterReplied(
        tracking_id=tid, message_id=f"m-{tid}-{when}", content="Tambahan", disputes_answer=disputes, sent_at=when
    )


async def test_clocks_start_with_the_default_deadlines(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(agency_code="KANWIL-JATIM")
    case = await hub.case(tid)
    assert case["status"] == "dispositioned" and case["escalation_level"] == 0
    verification = one_clock(case, "verification")
    assert verification["state"] == "met" and verification["agency_code"] is None
    assert verification["due_at"] == "2026-03-05" + END_OF and verification["stopped_at"] == z(START)
    first = one_clock(case, "first_response")
    assert (first["state"], first["working_days"], first["agency_code"]) == ("running", 5, "KANWIL-JATIM")
    assert first["due_at"] == "2026-03-09" + END_OF and first["started_at"] == z(START) and not first["paused"]
    resolution = one_clock(case, "resolution")
    assert (resolution["working_days"], resolution["due_at"]) == (14, "2026-03-27" + END_OF)
    assert case["expected_answer_by"] == "2026-03-27" + END_OF

    changed = await events_of(hub, "simpul.sla.clocks_changed", tid)
    assert changed and changed[-1]["data"]["clocks_version"] == len(changed)
    assert [c["name"] for c in changed[-1]["data"]["clocks"]] == ["verification", "first_response", "resolution"]


async def test_a_node_in_another_timezone_counts_its_own_days(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(agency_code="PEMKOT-JPR")
    first = one_clock(await hub.case(tid), "first_response")
    # Monday 11:00 WIT; 5 working days -> the end of Monday 9 March in Jayapura (UTC+9).
    assert first["due_at"] == "2026-03-09T14:59:59.999999Z"


async def test_warning_breach_and_the_ladder_fire_in_order_once_each(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(agency_code="KANWIL-JATIM")

    await move_to(hub, "2026-03-06T13:59:00Z")
    assert await events_of(hub, "simpul.sla.warning", tid) == []
    await move_to(hub, "2026-03-06T14:00:00Z")
    warnings = await events_of(hub, "simpul.sla.warning", tid)
    assert [w["data"]["clock"] for w in warnings] == ["first_response"]

    await move_to(hub, "2026-03-09T16:59:59Z")
    assert await breached(hub, tid) == []
    await move_to(hub, "2026-03-09T17:00:00Z")
    [breach] = await breached(hub, tid)
    assert breach["name"] == "first_response" and breach["agency_code"] == "KANWIL-JATIM"
    [first_rung] = await events_of(hub, "simpul.complaint.escalated", tid)
    assert (first_rung["data"]["level"], first_rung["data"]["target"]) == (1, "liaison")
    assert first_rung["data"]["target_agency_code"] == "KANWIL-JATIM"
    case = await hub.case(tid)
    assert case["escalation_level"] == 1
    assert one_clock(case, "first_response")["state"] == "breached"
    assert one_clock(case, "first_response")["escalation_level"] == 1

    await hub.sweep()  # nothing is due again
    assert len(await events_of(hub, "simpul.complaint.escalated", tid)) == 1

    await move_to(hub, "2026-03-16T17:00:00Z")
    rungs = await events_of(hub, "simpul.complaint.escalated", tid)
    assert [(r["data"]["level"], r["data"]["target"]) for r in rungs] == [(1, "liaison"), (2, "parent")]
    assert rungs[1]["data"]["target_agency_code"] == "KEMENKUMHAM"

    await move_to(hub, "2026-03-30T17:00:00Z")  # first response: coordinators; resolution (27 March): breached
    rungs = await events_of(hub, "simpul.complaint.escalated", tid)
    assert [(r["data"]["clock"], r["data"]["level"]) for r in rungs] == [
        ("first_response", 1),
        ("first_response", 2),
        ("first_response", 3),
        ("resolution", 1),
    ]
    assert rungs[2]["data"]["target"] == "coordinators" and rungs[2]["data"]["target_agency_code"] is None

    await move_to(hub, START + timedelta(days=200))  # the rest of the resolution ladder, in order
    rungs = await events_of(hub, "simpul.complaint.escalated", tid)
    assert [(r["data"]["clock"], r["data"]["level"], r["data"]["target"]) for r in rungs] == [
        ("first_response", 1, "liaison"),
        ("first_response", 2, "parent"),
        ("first_response", 3, "coordinators"),
        ("resolution", 1, "liaison"),
        ("resolution", 2, "parent"),
        ("resolution", 3, "coordinators"),
        ("resolution", 4, "oversight"),
    ]
    assert [w["data"]["clock"] for w in await events_of(hub, "simpul.sla.warning", tid)] == [
        "first_response",
        "resolution",
    ]
    assert [b["name"] for b in await breached(hub, tid)] == [
        "first_response",
        "resolution",
    ]
    case = await hub.case(tid)
    assert case["escalation_level"] == 4 and case["status"] == "dispositioned"
    assert one_clock(case, "resolution")["escalation_level"] == 4

    overdue = await hub.ok("GET", "/api/v1/hub/complaints?overdue=true", 200)
    assert [c["tracking_id"] for c in overdue["items"]] == [tid]
    escalated = await hub.ok("GET", "/api/v1/hub/complaints?escalation_level=4", 200)
    assert [c["tracking_id"] for c in escalated["items"]] == [tid]
    assert (await hub.ok("GET", "/api/v1/hub/complaints?escalation_level=5", 422))["error"]["code"]
    metrics = (await hub.client.get("/metrics")).text
    assert 'simpul_sla_fired_total{clock="resolution",event="complaint.escalated",level="4"}' in metrics


async def test_answers_meet_clocks_and_the_reporters_silence_completes_then_archives(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(agency_code="KANWIL-JATIM")
    hub.clock.set(START + timedelta(hours=1))
    await hub.publish_and_wait(ack(tid, "KANWIL-JATIM", START + timedelta(hours=1)))
    case = await hub.case(tid)
    assert one_clock(case, "first_response")["state"] == "met"
    assert one_clock(case, "first_response")["stopped_at"] == z(START + timedelta(hours=1))

    answered_at = at("2026-03-04T02:00:00Z")  # Wednesday 09:00 WIB
    hub.clock.set(answered_at)
    await hub.publish_and_wait(answer(tid, "KANWIL-JATIM", answered_at))
    case = await hub.case(tid)
    assert case["status"] == "answered" and case["expected_answer_by"] is None
    assert one_clock(case, "resolution")["state"] == "met"
    silence = one_clock(case, "reporter_response")
    # 10 working days from Wednesday 4 March: 5, 6, 9-13, 16, 17, then 25 March (after Nyepi and Lebaran).
    assert (silence["state"], silence["due_at"]) == ("running", "2026-03-25" + END_OF)

    await move_to(hub, "2026-03-25T16:59:00Z")
    assert (await hub.case(tid))["status"] == "answered"
    reminders = await events_of(hub, "simpul.sla.warning", tid)
    assert [r["data"]["clock"] for r in reminders] == ["reporter_response"]  # the reminder before auto-completion

    await move_to(hub, "2026-03-25T17:00:00Z")
    case = await hub.case(tid)
    assert case["status"] == "completed" and case["rating"] is None
    last = case["history"][-1]
    assert (last["action"], last["actor"]) == ("complete", "hub:sla") and "10 working days" in last["reason"]
    assert await events_of(hub, "simpul.complaint.escalated", tid) == []  # the reporter's silence escalates nothing
    photo_added = reporter_file(tid, answered_at)
    await hub.publish_and_wait(photo_added)
    assert [a["id"] for a in (await hub.case(tid))["attachments"]] == [photo_added.attachment.id]

    await move_to(hub, at("2026-03-25T17:00:00Z") + timedelta(days=hub.settings.archive_after_days, seconds=1))
    case = await hub.case(tid)
    assert case["status"] == "archived" and case["history"][-1]["actor"] == "hub:sla"
    (archived,) = case["attachments"]
    assert archived["removed_at"] is not None, "the case's retention covers its files"


def reporter_file(tid: str, when: datetime) -> AttachmentAdded:
    return AttachmentAdded(
        tracking_id=tid,
        owner="intake",
        uploader_kind=UploaderKind.reporter,
        bucket="simpul-files-intake",
        object_name="f-1",
        attachment=AttachmentMeta(
            id="f-1",
            filename="foto.jpg",
            media_type="image/jpeg",
            size=1234,
            sha256="0" * 64,
            scan_status=ScanStatus.unscanned,
            uploaded_by="reporter",
            uploaded_at=when,
        ),
    )


async def test_a_rating_completes_and_stops_the_reporter_clock(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(agency_code="KANWIL-JATIM")
    await hub.publish_and_wait(answer(tid, "KANWIL-JATIM", START))
    hub.clock.set(START + timedelta(days=1))
    await hub.publish_and_wait(ReporterRated(tracking_id=tid, score=4, rated_at=START + timedelta(days=1)))
    case = await hub.case(tid)
    assert case["status"] == "completed" and case["rating"] == 4
    assert one_clock(case, "reporter_response")["state"] == "met"


async def test_postponement_pauses_the_clocks_and_a_reply_resumes_them(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(category="tanpa-aturan")  # no rule: it waits in triage
    assert one_clock(await hub.case(tid), "verification")["due_at"] == "2026-03-05" + END_OF

    hub.clock.set(at("2026-03-03T02:00:00Z"))  # Tuesday 09:00 WIB
    body = {"action": "postpone", "reason": "Di kelurahan mana?"}
    await hub.ok("POST", f"/api/v1/hub/complaints/{tid}/decisions", 200, json=body)
    case = await hub.case(tid)
    verification = one_clock(case, "verification")
    assert verification["paused"] and verification["state"] == "running"
    assert one_clock(case, "reporter_response")["due_at"] == "2026-03-17" + END_OF
    assert case["expected_answer_by"] is None

    await move_to(hub, "2026-03-06T01:00:00Z")  # a paused clock does not breach
    assert await breached(hub, tid) == []

    hub.clock.set(at("2026-03-06T02:00:00Z"))  # Friday 09:00 WIB: paused for exactly 3 working days
    await hub.publish_and_wait(reply(tid, at("2026-03-06T02:00:00Z")))
    case = await hub.case(tid)
    assert case["status"] == "submitted"
    verification = one_clock(case, "verification")
    # 3.625 working days of budget from Monday 09:00 plus 3 paused = 6.625: the end of Tuesday 10 March.
    assert not verification["paused"] and verification["due_at"] == "2026-03-10" + END_OF
    assert one_clock(case, "reporter_response")["state"] == "met"


async def test_silence_after_a_postponement_withdraws_the_case(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(category="tanpa-aturan")
    hub.clock.set(at("2026-03-03T02:00:00Z"))
    await hub.ok("POST", f"/api/v1/hub/complaints/{tid}/decisions", 200, json={"action": "postpone", "reason": "?"})
    await move_to(hub, "2026-03-17T16:59:00Z")
    assert (await hub.case(tid))["status"] == "postponed"
    await move_to(hub, "2026-03-17T17:00:00Z")
    case = await hub.case(tid)
    assert case["status"] == "rejected"
    last = case["history"][-1]
    assert (last["reason_code"], last["actor"]) == ("withdrawn", "hub:sla")
    assert all(c["stopped_at"] for c in case["clocks"])
    changes = await events_of(hub, "simpul.complaint.status_changed", tid)
    [rejected] = [e for e in changes if e["data"]["status"] == "rejected"]
    assert rejected["data"]["reason_code"] == "withdrawn"


async def test_a_dispute_reopens_with_a_new_resolution_clock(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(agency_code="KANWIL-JATIM")
    await hub.publish_and_wait(answer(tid, "KANWIL-JATIM", START))
    hub.clock.set(at("2026-03-04T02:00:00Z"))
    await hub.publish_and_wait(reply(tid, at("2026-03-04T02:00:00Z"), disputes=True))
    case = await hub.case(tid)
    assert case["status"] == "in_progress"
    assert one_clock(case, "reporter_response")["state"] == "met"
    assert [c["state"] for c in clocks(case, "resolution")] == ["met", "running"]
    # 14 working days from Wednesday 4 March: 5, 6, 9-13, 16, 17, 25-27, 30, 31 March.
    assert one_clock(case, "resolution", "running")["due_at"] == "2026-03-31" + END_OF


async def test_sla_policies_choose_the_budget_and_recompute_open_clocks(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    coordinator = (await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"}))["key"]
    body = {"kind": "resolution", "classification": "pengaduan", "agency_code": "KEMENKUMHAM", "working_days": 7}
    await hub.ok("POST", "/api/v1/hub/sla-policies", 403, key=coordinator, json=body)
    await hub.ok("POST", "/api/v1/hub/sla-policies", 401, key=None, json=body)
    policy = await hub.ok("POST", "/api/v1/hub/sla-policies", 201, json=body)
    assert (policy["kind"], policy["agency_code"], policy["category"]) == ("resolution", "KEMENKUMHAM", None)
    again = await hub.ok("POST", "/api/v1/hub/sla-policies", 409, json=body)
    assert again["error"]["code"] == "policy_exists"
    bad = {"kind": "first_response", "working_days": 3, "berkadar_pengawasan": True}
    assert (await hub.ok("POST", "/api/v1/hub/sla-policies", 422, json=bad))["error"]["code"] == "invalid_policy"
    unknown = {"kind": "first_response", "working_days": 3, "agency_code": "NOPE"}
    assert (await hub.ok("POST", "/api/v1/hub/sla-policies", 422, json=unknown))["error"]["code"] == "unknown_agency"
    zero = {"kind": "first_response", "working_days": 0}
    await hub.ok("POST", "/api/v1/hub/sla-policies", 422, json=zero)

    query = "kind=resolution&classification=pengaduan"
    child = await hub.ok("GET", f"/api/v1/hub/sla-policies/effective?{query}&agency_code=KANWIL-JATIM", 200)
    assert (child["working_days"], child["policy_id"]) == (7, policy["id"])
    other = await hub.ok("GET", f"/api/v1/hub/sla-policies/effective?{query}&agency_code=PEMKOT-JPR", 200, coordinator)
    assert (other["working_days"], other["policy_id"]) == (14, None)
    listed = await hub.ok("GET", "/api/v1/hub/sla-policies?kind=resolution", 200, coordinator)
    assert [p["id"] for p in listed["items"]] == [policy["id"]]
    assert {(d["classification"], d["berkadar_pengawasan"], d["working_days"]) for d in listed["defaults"]} == {
        ("pengaduan", False, 14),
        ("aspirasi", False, 5),
        ("permintaan_informasi", False, 5),
        ("wbs", False, 14),
        ("pengaduan", True, 60),
    }

    tid = await hub.submit(agency_code="KANWIL-JATIM")
    resolution = one_clock(await hub.case(tid), "resolution")
    assert (resolution["working_days"], resolution["due_at"]) == (7, "2026-03-11" + END_OF)

    await hub.ok("PATCH", f"/api/v1/hub/sla-policies/{policy['id']}", 200, json={"working_days": 10})
    await hub.sweep()
    resolution = one_clock(await hub.case(tid), "resolution")
    assert (resolution["working_days"], resolution["due_at"]) == (10, "2026-03-16" + END_OF)

    await hub.ok("DELETE", f"/api/v1/hub/sla-policies/{policy['id']}", 204)
    await hub.ok("GET", f"/api/v1/hub/sla-policies/{policy['id']}", 404)
    await hub.ok("DELETE", f"/api/v1/hub/sla-policies/{policy['id']}", 404)
    await hub.sweep()
    resolution = one_clock(await hub.case(tid), "resolution")
    assert (resolution["working_days"], resolution["due_at"]) == (14, "2026-03-27" + END_OF)
    versions = [e["data"]["clocks_version"] for e in await events_of(hub, "simpul.sla.clocks_changed", tid)]
    assert versions == sorted(versions) and len(versions) >= 3


async def test_berkadar_pengawasan_sets_the_resolution_clock_to_60_working_days(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(agency_code="KANWIL-JATIM")
    case = await hub.ok("PATCH", f"/api/v1/hub/complaints/{tid}", 200, json={"berkadar_pengawasan": True})
    resolution = one_clock(case, "resolution")
    cal = hub.runtime.context.sla.rules.calendar
    assert resolution["working_days"] == 60 and case["berkadar_pengawasan"]
    assert resolution["due_at"] == z(cal.add_working_days(START, 60, "Asia/Jakarta")) == "2026-06-10" + END_OF
    assert case["history"][-1]["reason_code"] == "berkadar_pengawasan"

    aspirasi = await hub.submit(agency_code="KANWIL-JATIM", classification="aspirasi")
    refused = await hub.ok("PATCH", f"/api/v1/hub/complaints/{aspirasi}", 422, json={"berkadar_pengawasan": True})
    assert refused["error"]["code"] == "not_pengaduan"
    assert one_clock(await hub.case(aspirasi), "resolution")["working_days"] == 5
    await hub.ok("PATCH", "/api/v1/hub/complaints/NO-SUCH", 404, json={"berkadar_pengawasan": True})

    triaged = await hub.submit(category="tanpa-aturan")
    decision = {"action": "dispose", "agency_code": "KANWIL-JATIM", "berkadar_pengawasan": True}
    case = await hub.ok("POST", f"/api/v1/hub/complaints/{triaged}/decisions", 200, json=decision)
    assert case["berkadar_pengawasan"] and one_clock(case, "resolution")["working_days"] == 60


async def test_due_clocks_are_found_through_the_index(timed_hub: Hub) -> None:
    from sqlalchemy import text

    db = timed_hub.runtime.db
    query = "SELECT tracking_id FROM sla_clocks WHERE next_fire_at <= :now ORDER BY next_fire_at LIMIT 200"
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            plan = (await conn.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"now": START})).all()
            detail = " ".join(str(row[-1]) for row in plan)
        else:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = (await conn.execute(text(f"EXPLAIN {query}"), {"now": START})).all()
            detail = " ".join(str(row[0]) for row in plan)
    assert "ix_sla_clocks_next_fire_at" in detail, detail
    assert "SCAN sla_clocks " not in detail + " " and "Seq Scan" not in detail, detail


async def test_decisions_show_the_clocks_too(timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tid = await hub.submit(category="tanpa-aturan")
    case = await hub.ok(
        "POST",
        f"/api/v1/hub/complaints/{tid}/decisions",
        200,
        json={"action": "dispose", "agency_code": "KANWIL-JATIM"},
    )
    assert {c["name"] for c in case["clocks"]} == {"verification", "first_response", "resolution"}


async def test_the_calendar_api_shows_days_off_and_deadlines(timed_hub: Hub) -> None:
    hub = timed_hub
    year = await hub.ok("GET", "/api/v1/hub/calendar/2026", 200)
    off = {d["date"]: d["name"] for d in year["days_off"]}
    lebaran = ["2026-03-18", "2026-03-19", "2026-03-20", "2026-03-23", "2026-03-24"]  # the weekdays of Nyepi-Lebaran
    assert all(day in off for day in lebaran) and "2026-12-25" in off and "2026-01-01" in off
    assert "2026-03-21" not in off  # a Saturday: not a working day anyway, so not listed
    assert year["working_days"] == 261 - len(year["days_off"]) and year["extra_working_days"] == []

    due = await hub.ok(
        "GET", "/api/v1/hub/calendar/deadline?start=2026-03-17T10:00:00%2B07:00&working_days=3&timezone=WIB", 200
    )
    assert (due["due_at"], due["due_date"]) == ("2026-03-27" + END_OF, "2026-03-27")
    wit = await hub.ok(
        "GET", "/api/v1/hub/calendar/deadline?start=2026-03-02T02:00:00Z&working_days=5&timezone=WIT", 200
    )
    assert wit["due_at"] == "2026-03-09T14:59:59.999999Z"
    naive = await hub.ok("GET", "/api/v1/hub/calendar/deadline?start=2026-03-02T09:00:00&working_days=1", 422)
    assert naive["error"]["code"] == "naive_datetime"
    await hub.ok("GET", "/api/v1/hub/calendar/deadline?start=2026-03-02T02:00:00Z&working_days=-1", 422)
    await hub.ok("GET", "/api/v1/hub/calendar/1999", 422)
    await hub.ok("GET", "/api/v1/hub/calendar/2026", 401, key=None)


async def test_a_broken_case_holds_up_no_other_and_is_looked_at_again(timed_hub: Hub, monkeypatch: Any) -> None:
    """The sweep fires a batch at once; when one case of it fails, the others still fire (each case on its own), and
    the broken one is left for a later sweep, with nothing of it fired twice."""
    hub = timed_hub
    await tree(hub)
    broken, sound = await hub.submit(agency_code="KANWIL-JATIM"), await hub.submit(agency_code="KANWIL-JATIM")
    fire = SlaEngine.fire

    async def failing(self: SlaEngine, session: Any, case: Any, clock: Any, now: datetime) -> Any:
        if case.tracking_id == broken:
            raise RuntimeError("a broken case")
        return await fire(self, session, case, clock, now)

    monkeypatch.setattr(SlaEngine, "fire", failing)
    await move_to(hub, "2026-03-06T14:00:00Z")  # both first-response clocks warn now
    assert len(await events_of(hub, "simpul.sla.warning", sound)) == 1
    assert await events_of(hub, "simpul.sla.warning", broken) == []
    assert await hub.sweep() == 0  # the broken case is looked at again in a minute, not at once

    monkeypatch.setattr(SlaEngine, "fire", fire)
    await move_to(hub, "2026-03-06T14:01:00Z")
    assert len(await events_of(hub, "simpul.sla.warning", broken)) == 1
    assert len(await events_of(hub, "simpul.sla.warning", sound)) == 1
