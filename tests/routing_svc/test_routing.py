"""complaint.submitted -> a case, routed by the reporter's choice, by the best rule, or left in triage."""

from __future__ import annotations

from routing_svc.models import Base
from tests.routing_svc.conftest import Hub, new_tid, submitted
from tests.support.apps import IDENTITY, eventually
from tests.support.databases import stored_text


async def _tree(hub: Hub) -> None:
    await hub.node("KEMENKUMHAM")
    await hub.node("KANWIL-JATIM", "kanwil", "KEMENKUMHAM", region_codes=["35"])
    await hub.node("LAPAS-SBY", "upt", "KANWIL-JATIM", region_codes=["3578"])


async def test_routed_by_the_reporters_choice(hub: Hub) -> None:
    await _tree(hub)
    await hub.rule(agency_code="KANWIL-JATIM", priority=100)  # the reporter's choice beats any rule
    tid = await hub.submit(agency_code="LAPAS-SBY")
    case = await hub.case(tid)
    assert case["status"] == "dispositioned" and case["agency_code"] == "LAPAS-SBY"
    assert case["status_label"] == "Terverifikasi, Belum Ditindaklanjuti" and case["case_version"] == 1
    assert case["reporter_name"] == "Siti Aminah" and case["title"].startswith("Pungutan")
    first, disposition = case["history"]
    assert first["action"] == "submit" and first["to_status"] == "submitted" and first["case_version"] == 0
    assert disposition["from_status"] == "submitted" and disposition["to_status"] == "dispositioned"
    assert disposition["route_kind"] == "reporter_choice" and disposition["reason"] == "reporter's choice"
    assert disposition["rule_id"] is None and disposition["actor"] == "routing"

    async def published() -> list | None:
        found = await hub.events("simpul.complaint.dispositioned.LAPAS-SBY")
        return found or None

    (event,) = await eventually(published)
    data = event["data"]
    assert data["tracking_id"] == tid and data["route_kind"] == "reporter_choice" and data["case_version"] == 1
    assert IDENTITY.open(data["case"]["reporter_name_sealed"]) == "Siti Aminah" and data["previous_agency_code"] is None
    assert "Siti Aminah" not in str(event)
    stored = await stored_text(hub.runtime.db.engine, Base.metadata)
    assert not any("Siti Aminah" in v for v in stored), "the name is sealed at rest"
    assert event["correlation_id"] == tid
    (status,) = await hub.events("simpul.complaint.status_changed")
    assert status["data"]["status"] == "dispositioned" and status["data"]["previous_status"] == "submitted"
    assert status["data"]["case_version"] == 1 and status["data"]["agency_code"] == "LAPAS-SBY"


async def test_routed_by_the_best_rule_over_http(hub: Hub) -> None:
    await _tree(hub)
    await hub.node("KEMENDIKBUD")
    broad = await hub.rule(agency_code="KEMENKUMHAM", category="pemasyarakatan")
    province = await hub.rule(agency_code="KANWIL-JATIM", category="pemasyarakatan", region_code="35")
    city = await hub.rule(agency_code="LAPAS-SBY", category="Pemasyarakatan", region_code="3578")
    keyword = await hub.rule(agency_code="KEMENDIKBUD", keywords=["Sekolah Rusak", "guru"])
    assert city["specificity"] == 2.4 and keyword["specificity"] == 4 and city["category"] == "pemasyarakatan"
    assert keyword["keywords"] == ["sekolah rusak", "guru"] and city["classification"] is None

    by_city = await hub.case(await hub.submit(region_code="3578010001"))
    by_province = await hub.case(await hub.submit(region_code="3501"))
    by_category = await hub.case(await hub.submit(region_code="1271"))
    by_keyword = await hub.case(await hub.submit(title="Sekolah rusak parah", region_code="3578"))
    not_a_word = await hub.case(await hub.submit(title="Penguruskan izin", category="lain", region_code=None))
    assert by_city["agency_code"] == "LAPAS-SBY" and by_province["agency_code"] == "KANWIL-JATIM"
    assert by_category["agency_code"] == "KEMENKUMHAM" and by_keyword["agency_code"] == "KEMENDIKBUD"
    assert not_a_word["status"] == "submitted" and not_a_word["agency_code"] is None
    why = by_city["history"][-1]
    assert why["rule_id"] == str(city["id"]) and why["reason"] == f"rule {city['id']}" and why["route_kind"] == "rule"

    # Priority beats specificity; an unknown or inactive reporter's choice falls through to the rules.
    await hub.rule(agency_code="KEMENKUMHAM", priority=5)
    assert (await hub.case(await hub.submit(region_code="3578")))["agency_code"] == "KEMENKUMHAM"
    await hub.ok("PATCH", "/api/v1/hub/agencies/KEMENDIKBUD", 200, json={"is_active": False})
    fell = await hub.case(await hub.submit(agency_code="NOT-THERE"))
    assert fell["agency_code"] == "KEMENKUMHAM" and "NOT-THERE" in fell["history"][-1]["reason"]
    fell = await hub.case(await hub.submit(agency_code="KEMENDIKBUD"))
    assert fell["agency_code"] == "KEMENKUMHAM"

    listed = await hub.ok("GET", "/api/v1/hub/routing-rules?agency_code=KANWIL-JATIM", 200)
    assert [r["id"] for r in listed["items"]] == [province["id"]]
    await hub.ok("DELETE", f"/api/v1/hub/routing-rules/{broad['id']}", 204)
    await hub.ok("DELETE", f"/api/v1/hub/routing-rules/{broad['id']}", 404)
    r = await hub.ok("POST", "/api/v1/hub/routing-rules", 422, json={"agency_code": "NOPE"})
    assert r["error"]["code"] == "unknown_agency"
    for bad in ({"agency_code": "LAPAS-SBY", "region_code": "357"}, {"agency_code": "LAPAS-SBY", "keywords": ["!!"]}):
        r = await hub.ok("POST", "/api/v1/hub/routing-rules", 422, json=bad)
        assert r["error"]["code"] == "validation_error"


async def test_no_match_waits_in_triage(hub: Hub) -> None:
    await _tree(hub)
    tid = await hub.submit(category="tidak-ada-aturan", is_anonymous=True)
    case = await hub.case(tid)
    assert case["status"] == "submitted" and case["agency_code"] is None and case["case_version"] == 0
    assert case["reporter_name"] == "Anonim" and case["is_anonymous"] is True
    assert case["history"][-1]["action"] == "note" and "triage" in case["history"][-1]["reason"]
    triage = await hub.ok("GET", "/api/v1/hub/complaints?triage=true", 200)
    assert [c["tracking_id"] for c in triage["items"]] == [tid]
    assert triage["items"][0]["status_label"] == "Belum Terverifikasi"
    by_status = await hub.ok("GET", "/api/v1/hub/complaints?status=submitted", 200)
    assert [c["tracking_id"] for c in by_status["items"]] == [tid]
    assert (await hub.ok("GET", "/api/v1/hub/complaints?status=dispositioned", 200))["items"] == []
    await hub.ok("GET", "/api/v1/hub/complaints/NO-SUCH-CASE", 404)


async def test_repeats_change_nothing(hub: Hub) -> None:
    await _tree(hub)
    tid = new_tid()
    env = await hub.publish_and_wait(submitted(tid, agency_code="LAPAS-SBY", is_anonymous=True))
    before = await hub.case(tid)
    await hub.publish(submitted(tid, agency_code="LAPAS-SBY"), env=env)  # the very same envelope (new msg id)
    again = await hub.publish_and_wait(submitted(tid, agency_code="KANWIL-JATIM"))  # same case, new envelope
    assert await hub.processed(again)
    assert await hub.case(tid) == before
    dispositions = await hub.events("simpul.complaint.dispositioned.>")
    assert len(dispositions) == 1 and dispositions[0]["data"]["case"]["reporter_name_sealed"] is None
    listed = await hub.ok("GET", "/api/v1/hub/complaints?agency_code=LAPAS-SBY", 200)
    assert [c["tracking_id"] for c in listed["items"]] == [tid]
