"""Cases through their lifecycle: coordinators' decisions, and agency and reporter events from the stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events.contracts import (
    AgencyAcknowledged,
    AgencyDelegated,
    AgencyForwardRequested,
    FollowupPosted,
    ReporterRated,
    ReporterReplied,
    ReporterWithdrew,
)
from tests.routing_svc.conftest import Hub
from tests.support.apps import eventually


def now(hours: float = 0) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def ack(tid: str, code: str, hours: float = 0) -> AgencyAcknowledged:
    return AgencyAcknowledged(tracking_id=tid, agency_code=code, actor=f"agency:{code}", acknowledged_at=now(hours))


def followup(tid: str, code: str, *, final: bool, hours: float = 0) -> FollowupPosted:
    return FollowupPosted(
        tracking_id=tid,
        followup_id=f"fu-{tid}-{final}-{hours}",
        agency_code=code,
        content="Sudah ditangani." if final else "Sedang diperiksa.",
        is_final=final,
        actor=f"agency:{code}",
        posted_at=now(hours),
    )


def forward(tid: str, code: str, suggested: str | None = None) -> AgencyForwardRequested:
    return AgencyForwardRequested(
        tracking_id=tid,
        agency_code=code,
        reason="Bukan wewenang kami",
        suggested_agency_code=suggested,
        actor=f"agency:{code}",
        requested_at=now(),
    )


def delegate(tid: str, from_code: str, to_code: str) -> AgencyDelegated:
    return AgencyDelegated(
        tracking_id=tid,
        from_agency_code=from_code,
        agency_code=to_code,
        actor=f"agency:{from_code}",
        delegated_at=now(),
    )


def reply(tid: str, disputes: bool = False) -> ReporterReplied:
    return ReporterReplied(
        tracking_id=tid, message_id=f"m-{tid}-{disputes}", content="Tambahan", disputes_answer=disputes, sent_at=now()
    )


async def _tree(hub: Hub) -> None:
    await hub.node("KEMENHUB")
    await hub.node("KANWIL-HUB", "kanwil", "KEMENHUB")
    await hub.node("UPT-HUB", "upt", "KANWIL-HUB")
    await hub.node("PEMKOT-SBY")
    await hub.node("PEMPROV-JATIM")


async def _decide(hub: Hub, tid: str, status: int, key: str | None = None, **body: Any) -> dict:
    kwargs: dict[str, Any] = {"json": body}
    if key is not None:
        kwargs["key"] = key
    return dict(await hub.ok("POST", f"/api/v1/hub/complaints/{tid}/decisions", status, **kwargs))


async def test_coordinator_decisions(hub: Hub) -> None:
    await _tree(hub)
    coordinator = (await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"}))["key"]
    agency_key = (await hub.ok("POST", "/api/v1/hub/agencies/PEMKOT-SBY/api-keys", 201, json={}))["key"]
    tid = await hub.submit(category="lain")

    await _decide(hub, tid, 403, key=agency_key, action="dispose", agency_code="PEMKOT-SBY")
    await _decide(hub, "NO-SUCH-CASE", 404, key=coordinator, action="reject")
    r = await _decide(hub, tid, 422, key=coordinator, action="dispose", agency_code="NOPE")
    assert r["error"]["code"] == "unknown_agency"
    r = await _decide(hub, tid, 422, key=coordinator, action="dispose")
    assert r["error"]["code"] == "unknown_agency"
    r = await _decide(hub, tid, 422, key=coordinator, action="postpone")
    assert r["error"]["code"] == "reason_required"
    r = await _decide(hub, tid, 422, key=coordinator, action="launch")
    assert r["error"]["code"] == "validation_error"

    case = await _decide(
        hub, tid, 200, key=coordinator, action="dispose", agency_code="PEMKOT-SBY", reason="Jalan kota"
    )
    assert case["status"] == "dispositioned" and case["agency_code"] == "PEMKOT-SBY"
    last = case["history"][-1]
    assert (
        last["route_kind"] == "coordinator"
        and last["reason"] == "Jalan kota"
        and last["actor"].startswith("coordinator:")
    )
    r = await _decide(hub, tid, 409, key=coordinator, action="postpone", reason="x")
    assert r["error"]["code"] == "illegal_transition" and "dispositioned -> postponed" in r["error"]["message"]
    r = await _decide(hub, tid, 409, key=coordinator, action="dispose", agency_code="PEMKOT-SBY")
    assert r["error"]["code"] == "illegal_transition"
    # A coordinator overrides the holding node.
    case = await _decide(hub, tid, 200, key=coordinator, action="dispose", agency_code="PEMPROV-JATIM")
    assert case["agency_code"] == "PEMPROV-JATIM" and case["history"][-1]["action"] == "override"
    assert case["case_version"] == 2

    rejected = await hub.submit(category="lain")
    case = await _decide(hub, rejected, 200, action="reject", reason_code="too_general", reason="Terlalu umum")
    assert case["status"] == "rejected" and case["history"][-1]["reason_code"] == "too_general"
    r = await _decide(hub, rejected, 409, action="dispose", agency_code="PEMKOT-SBY")
    assert r["error"]["code"] == "illegal_transition"
    default_reason = await _decide(hub, await hub.submit(category="lain"), 200, action="reject")
    assert default_reason["history"][-1]["reason_code"] == "not_relevant"

    # Postponed, the reporter adds information: back to submitted, then routed again (now by a rule).
    postponed = await hub.submit(category="jalan")
    case = await _decide(hub, postponed, 200, action="postpone", reason="Lokasi persisnya di mana?")
    assert case["status"] == "postponed" and case["status_label"] == "Tunda"
    await hub.rule(agency_code="PEMKOT-SBY", category="jalan")
    await hub.publish_and_wait(reply(postponed))
    case = await hub.case(postponed)
    assert [h["action"] for h in case["history"]] == ["submit", "note", "postpone", "resubmit", "dispose"]
    assert case["agency_code"] == "PEMKOT-SBY" and case["case_version"] == 3

    async def events() -> tuple | None:
        changes = await hub.events("simpul.complaint.status_changed")
        rej = [e for e in changes if e["data"]["status"] == "rejected"]
        post = [e for e in changes if e["data"]["status"] == "postponed"]
        return (rej, post) if len(rej) == 2 and post else None

    rej, post = await eventually(events)
    assert rej[0]["data"]["reason_code"] == "too_general" and post[0]["data"]["reason"] == "Lokasi persisnya di mana?"
    versions = [
        e["data"]["case_version"]
        for e in await hub.events("simpul.complaint.status_changed")
        if e["data"]["tracking_id"] == postponed
    ]
    assert versions == [1, 2, 3]


async def test_full_lifecycle_from_events_and_stats(hub: Hub) -> None:
    await _tree(hub)
    tid = await hub.submit(agency_code="UPT-HUB")
    other = await hub.submit(agency_code="UPT-HUB")

    await hub.publish_and_wait(ack(tid, "PEMKOT-SBY"))  # not the holder nor an ancestor: ignored
    assert (await hub.case(tid))["status"] == "dispositioned"
    await hub.publish_and_wait(ack(tid, "UPT-HUB", hours=2))
    case = await hub.case(tid)
    assert case["status"] == "in_progress" and case["status_label"] == "Proses"
    await hub.publish_and_wait(ack(tid, "UPT-HUB", hours=3))  # already further: ignored
    await hub.publish_and_wait(followup(tid, "UPT-HUB", final=False, hours=4))
    assert (await hub.case(tid))["case_version"] == 2
    # An ancestor (the Kanwil) may answer for its UPT.
    await hub.publish_and_wait(followup(tid, "KANWIL-HUB", final=True, hours=5))
    assert (await hub.case(tid))["status"] == "answered"
    await hub.publish_and_wait(reply(tid, disputes=True))
    assert (await hub.case(tid))["status"] == "in_progress"
    await hub.publish_and_wait(followup(tid, "UPT-HUB", final=True, hours=6))
    rate = ReporterRated(tracking_id=tid, score=4, comment="Baik", rated_at=now())
    env = await hub.publish_and_wait(rate)
    case = await hub.case(tid)
    assert case["status"] == "completed" and case["rating"] == 4 and case["status_label"] == "Selesai"
    assert [h["to_status"] for h in case["history"]] == [
        "submitted",
        "dispositioned",
        "in_progress",
        "answered",
        "in_progress",
        "answered",
        "completed",
    ]
    assert case["case_version"] == 6
    # The same envelope delivered again changes nothing, nor does a late event.
    await hub.publish(rate, env=env)
    await hub.publish_and_wait(ReporterWithdrew(tracking_id=tid, withdrawn_at=now()))
    assert await hub.case(tid) == case

    # The other case: a progress follow-up moves it, then the reporter withdraws.
    await hub.publish_and_wait(followup(other, "UPT-HUB", final=False, hours=1))
    assert (await hub.case(other))["status"] == "in_progress"
    await hub.publish_and_wait(ReporterWithdrew(tracking_id=other, reason="Sudah selesai sendiri", withdrawn_at=now()))
    withdrawn = await hub.case(other)
    assert withdrawn["status"] == "rejected" and withdrawn["history"][-1]["reason_code"] == "withdrawn"

    stats = await hub.ok("GET", "/api/v1/hub/stats/agencies", 200)
    by_code = {s["agency_code"]: s for s in stats["items"]}
    upt = by_code["UPT-HUB"]
    assert (upt["received"], upt["followed_up"], upt["completed"], upt["overdue"]) == (2, 2, 1, 0)
    assert upt["mean_rating"] == 4.0 and upt["sla_compliance"] == 1.0  # every clock of theirs met in time
    assert 1.0 < upt["median_first_response_hours"] < 2.1  # one case after 2 h, the other after 1 h: median 1.5
    assert by_code["PEMKOT-SBY"]["received"] == 0 and by_code["PEMKOT-SBY"]["median_first_response_hours"] is None


async def test_forwarding_delegation_and_the_bounce_limit(hub: Hub) -> None:
    await _tree(hub)
    # Forward with a usable suggestion: re-dispositioned there.
    tid = await hub.submit(agency_code="UPT-HUB")
    await hub.publish_and_wait(ack(tid, "UPT-HUB"))
    await hub.publish_and_wait(forward(tid, "UPT-HUB", "PEMKOT-SBY"))
    case = await hub.case(tid)
    assert case["status"] == "dispositioned" and case["agency_code"] == "PEMKOT-SBY" and case["forward_count"] == 1
    last = case["history"][-1]
    assert last["action"] == "forward" and last["route_kind"] == "forward" and last["reason"] == "Bukan wewenang kami"

    async def forwarded() -> list | None:
        found = await hub.events("simpul.complaint.dispositioned.PEMKOT-SBY")
        return found or None

    (event,) = await eventually(forwarded)
    assert event["data"]["previous_agency_code"] == "UPT-HUB" and event["data"]["route_kind"] == "forward"
    # A stale event from the node that let it go is ignored.
    await hub.publish_and_wait(followup(tid, "UPT-HUB", final=True))
    assert (await hub.case(tid))["status"] == "dispositioned"

    # Forward without a suggestion, or with an unknown one: back to triage.
    await hub.publish_and_wait(forward(tid, "PEMKOT-SBY"))
    case = await hub.case(tid)
    assert case["status"] == "submitted" and case["agency_code"] is None
    assert case["history"][-1]["action"] == "triage" and case["history"][-1]["reason_code"] == "forward_no_target"
    triage = await hub.ok("GET", "/api/v1/hub/complaints?triage=true", 200)
    assert tid in [c["tracking_id"] for c in triage["items"]]
    unknown = await hub.submit(agency_code="PEMKOT-SBY")
    await hub.publish_and_wait(forward(unknown, "PEMKOT-SBY", "NOT-THERE"))
    assert (await hub.case(unknown))["status"] == "submitted"

    # Delegation to a strict descendant only.
    delegated = await hub.submit(agency_code="KANWIL-HUB")
    await hub.publish_and_wait(delegate(delegated, "KANWIL-HUB", "PEMKOT-SBY"))  # not under the Kanwil
    await hub.publish_and_wait(delegate(delegated, "KANWIL-HUB", "KANWIL-HUB"))  # itself
    assert (await hub.case(delegated))["agency_code"] == "KANWIL-HUB"
    await hub.publish_and_wait(delegate(delegated, "KANWIL-HUB", "UPT-HUB"))
    case = await hub.case(delegated)
    assert case["agency_code"] == "UPT-HUB" and case["status"] == "dispositioned"
    assert case["history"][-1]["route_kind"] == "delegation" and case["forward_count"] == 0
    await hub.publish_and_wait(delegate(delegated, "UPT-HUB", "KANWIL-HUB"))  # upwards: ignored
    assert (await hub.case(delegated))["agency_code"] == "UPT-HUB"

    # The bounce limit (max_forwards = 3): the fourth forward goes to triage whatever it suggests.
    bouncing = await hub.submit(agency_code="PEMKOT-SBY")
    hops = [("PEMKOT-SBY", "PEMPROV-JATIM"), ("PEMPROV-JATIM", "KEMENHUB"), ("KEMENHUB", "PEMKOT-SBY")]
    for holder, suggested in hops:
        await hub.publish_and_wait(forward(bouncing, holder, suggested))
        assert (await hub.case(bouncing))["agency_code"] == suggested
    await hub.publish_and_wait(forward(bouncing, "PEMKOT-SBY", "PEMPROV-JATIM"))
    case = await hub.case(bouncing)
    assert case["status"] == "submitted" and case["agency_code"] is None and case["forward_count"] == 4
    assert case["history"][-1]["reason_code"] == "forward_limit"
    dispositions = [h for h in case["history"] if h["to_status"] == "dispositioned"]
    assert [h["agency_code"] for h in dispositions] == ["PEMKOT-SBY", "PEMPROV-JATIM", "KEMENHUB", "PEMKOT-SBY"]
