"""Whistleblowing (WBS) reports go to the integrity node the directory names, and never to the node they accuse."""

from __future__ import annotations

from datetime import UTC, datetime

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
