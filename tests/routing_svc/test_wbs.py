"""Whistleblowing (WBS) reports go to the integrity node the directory names, and never to the node they accuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.events.contracts import AgencyAcknowledged, AgencyForwardRequested
from tests.routing_svc.conftest import Hub


async def tree(hub: Hub) -> None:
    await hub.node("KEMENKUMHAM")
    await hub.node("ITJEN", "inspektorat", "KEMENKUMHAM")
    await hub.node("KANWIL-JATIM", "kanwil", "KEMENKUMHAM")
    await hub.node("UPT-SBY", "upt", "KANWIL-JATIM")
    await hub.node("PEMKOT-SBY")
    node = await hub.ok("PATCH", "/api/v1/hub/agencies/KEMENKUMHAM", 200, json={"integrity_node_code": "ITJEN"})
    assert node["integrity_node_code"] == "ITJEN"


async def dispositioned_to(hub: Hub, tid: str) -> list[str]:
    return [
        e["data"]["agency_code"]
        for e in await hub.events("simpul.complaint.dispositioned.>")
        if e["data"]["tracking_id"] == tid
    ]


async def test_the_directory_names_integrity_nodes(hub: Hub) -> None:
    await tree(hub)
    refused = await hub.ok("PATCH", "/api/v1/hub/agencies/ITJEN", 422, json={"integrity_node_code": "ITJEN"})
    assert refused["error"]["code"] == "integrity_node_is_self"
    unknown = await hub.ok("PATCH", "/api/v1/hub/agencies/ITJEN", 422, json={"integrity_node_code": "NOPE"})
    assert unknown["error"]["code"] == "unknown_agency"
    body = {"code": "INSPEKTORAT-SBY", "name": "Inspektorat Kota Surabaya", "kind": "inspektorat"}
    await hub.ok("POST", "/api/v1/hub/agencies", 201, json=body)
    body = {"code": "DISDIK-SBY", "name": "Dinas Pendidikan", "kind": "unit", "integrity_node_code": "INSPEKTORAT-SBY"}
    assert (await hub.ok("POST", "/api/v1/hub/agencies", 201, json=body))["integrity_node_code"] == "INSPEKTORAT-SBY"
    cleared = await hub.ok("PATCH", "/api/v1/hub/agencies/DISDIK-SBY", 200, json={"integrity_node_code": None})
    assert cleared["integrity_node_code"] is None


async def test_a_report_goes_to_the_integrity_node_of_the_node_it_accuses(hub: Hub) -> None:
    await tree(hub)
    # The reporter names the Kanwil; the nearest integrity node up its path is the ministry's Itjen.
    about_kanwil = await hub.submit(agency_code="KANWIL-JATIM", classification="wbs", is_anonymous=True)
    case = await hub.case(about_kanwil)
    assert (case["status"], case["agency_code"], case["accused_agency_code"]) == (
        "dispositioned",
        "ITJEN",
        "KANWIL-JATIM",
    )
    assert "integrity node ITJEN" in case["history"][-1]["reason"]
    # Naming the ministry itself: its Itjen sits under it, and only the holder's keys see a WBS case (agency_svc).
    about_ministry = await hub.submit(agency_code="KEMENKUMHAM", classification="wbs")
    assert (await hub.case(about_ministry))["agency_code"] == "ITJEN"
    # Named by a rule rather than by the reporter.
    await hub.rule(agency_code="UPT-SBY", category="pemasyarakatan", classification="wbs")
    by_rule = await hub.submit(classification="wbs")
    case = await hub.case(by_rule)
    assert (case["agency_code"], case["accused_agency_code"]) == ("ITJEN", "UPT-SBY")
    # An ordinary complaint about the same Kanwil goes to the Kanwil.
    ordinary = await hub.submit(agency_code="KANWIL-JATIM")
    assert (await hub.case(ordinary))["agency_code"] == "KANWIL-JATIM"

    for tid in (about_kanwil, about_ministry, by_rule):
        assert await dispositioned_to(hub, tid) == ["ITJEN"]


async def test_no_integrity_node_means_triage_and_nobody_sends_it_to_the_accused(hub: Hub) -> None:
    await tree(hub)
    tid = await hub.submit(agency_code="PEMKOT-SBY", classification="wbs")
    case = await hub.case(tid)
    assert (case["status"], case["agency_code"], case["accused_agency_code"]) == ("submitted", None, "PEMKOT-SBY")
    assert "no integrity node" in case["history"][-1]["reason"]
    decision = {"action": "dispose", "agency_code": "PEMKOT-SBY"}
    refused = await hub.ok("POST", f"/api/v1/hub/complaints/{tid}/decisions", 422, json=decision)
    assert refused["error"]["code"] == "wbs_accused_node"
    await hub.ok("POST", f"/api/v1/hub/complaints/{tid}/decisions", 200, json={**decision, "agency_code": "ITJEN"})

    about_kanwil = await hub.submit(agency_code="KANWIL-JATIM", classification="wbs")
    for target in ("KANWIL-JATIM", "UPT-SBY"):  # the accused, and a node under it
        body = {"action": "dispose", "agency_code": target}
        refused = await hub.ok("POST", f"/api/v1/hub/complaints/{about_kanwil}/decisions", 422, json=body)
        assert refused["error"]["code"] == "wbs_accused_node"

    # The ministry (an ancestor of the holder) cannot act on the case; Itjen's forward to the accused goes to triage.
    now = datetime.now(UTC)
    await hub.publish_and_wait(
        AgencyAcknowledged(tracking_id=about_kanwil, agency_code="KEMENKUMHAM", actor="agency", acknowledged_at=now)
    )
    assert (await hub.case(about_kanwil))["status"] == "dispositioned"
    await hub.publish_and_wait(
        AgencyForwardRequested(
            tracking_id=about_kanwil,
            agency_code="ITJEN",
            reason="Bukan wewenang kami",
            suggested_agency_code="KANWIL-JATIM",
            actor="agency",
            requested_at=now,
        )
    )
    case = await hub.case(about_kanwil)
    assert (case["status"], case["agency_code"]) == ("submitted", None)
    assert await dispositioned_to(hub, about_kanwil) == ["ITJEN"]
    assert await dispositioned_to(hub, tid) == ["ITJEN"]


async def wide_tree(hub: Hub) -> None:
    """`tree`, plus a province whose inspektorat takes the reports about the city: outside the city's line."""
    await tree(hub)
    await hub.node("PEMPROV-JATIM")
    await hub.node("INSPEKTORAT-JATIM", "inspektorat", "PEMPROV-JATIM")
    await hub.ok("PATCH", "/api/v1/hub/agencies/PEMKOT-SBY", 200, json={"integrity_node_code": "INSPEKTORAT-JATIM"})


async def rungs_of(hub: Hub, tid: str) -> list[tuple[int, str, str | None]]:
    return [
        (e["data"]["level"], e["data"]["target"], e["data"]["target_agency_code"])
        for e in await hub.events("simpul.complaint.escalated")
        if e["data"]["tracking_id"] == tid and e["data"]["clock"] == "first_response"
    ]


async def test_the_ladder_skips_the_accused_and_the_nodes_above_it(timed_hub: Hub) -> None:
    hub = timed_hub
    await wide_tree(hub)
    about_kanwil = await hub.submit(agency_code="KANWIL-JATIM", classification="wbs")
    about_ministry = await hub.submit(agency_code="KEMENKUMHAM", classification="wbs")
    about_city = await hub.submit(agency_code="PEMKOT-SBY", classification="wbs")
    ordinary = await hub.submit(agency_code="UPT-SBY")
    assert [(await hub.case(t))["agency_code"] for t in (about_kanwil, about_ministry, about_city)] == [
        "ITJEN",
        "ITJEN",
        "INSPEKTORAT-JATIM",
    ]

    # First response is due at the end of 9 March; the parent rung comes 5 working days later (test_sla.py).
    hub.clock.set(datetime(2026, 3, 16, 17, 0, tzinfo=UTC))
    await hub.sweep()
    # Itjen's parent is the ministry, the accused or above it: the hub's coordinators are told in its place.
    for tid in (about_kanwil, about_ministry):
        assert await rungs_of(hub, tid) == [(1, "liaison", "ITJEN"), (2, "coordinators", None)]
    # The province is outside the city's line; an ordinary case climbs as it always did.
    assert await rungs_of(hub, about_city) == [(1, "liaison", "INSPEKTORAT-JATIM"), (2, "parent", "PEMPROV-JATIM")]
    assert await rungs_of(hub, ordinary) == [(1, "liaison", "UPT-SBY"), (2, "parent", "KANWIL-JATIM")]
    assert (await hub.case(about_kanwil))["escalation_level"] == 2


async def test_statistics_count_a_report_under_no_node_of_the_accused_line(hub: Hub) -> None:
    await wide_tree(hub)
    await hub.submit(agency_code="KANWIL-JATIM", classification="wbs")  # held by ITJEN, the Kanwil's sibling
    await hub.submit(agency_code="KEMENKUMHAM", classification="wbs")  # held by ITJEN, under the accused ministry
    await hub.submit(agency_code="PEMKOT-SBY", classification="wbs")  # held by the province's inspektorat
    await hub.submit(agency_code="UPT-SBY")

    rows = (await hub.ok("GET", "/api/v1/hub/stats/agencies", 200))["items"]
    received = {r["agency_code"]: r["received"] for r in rows}
    assert received == {
        "KEMENKUMHAM": 1,  # the ordinary case only: above the Kanwil, and the ministry itself accused
        "ITJEN": 1,  # the report about the Kanwil; not the one about the ministry, which it lies under
        "KANWIL-JATIM": 1,
        "UPT-SBY": 1,
        "PEMKOT-SBY": 0,
        "PEMPROV-JATIM": 1,  # outside the city's line: the report about the city counts here
        "INSPEKTORAT-JATIM": 1,
    }

    def total(body: dict[str, Any]) -> int:
        return sum(int(p["received"]) for p in body["items"])

    whole_hub = await hub.ok("GET", "/api/v1/hub/stats/periods", 200, params={"granularity": "year"})
    assert total(whole_hub) == 4, "the whole hub counts every report"
    ministry = await hub.ok(
        "GET", "/api/v1/hub/stats/periods", 200, params={"granularity": "year", "agency_code": "KEMENKUMHAM"}
    )
    assert total(ministry) == 1
