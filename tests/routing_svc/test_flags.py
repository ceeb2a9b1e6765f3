"""A submission naming a category or region the hub does not know: taken, flagged for the coordinators, and left in
triage (no rule can match an unknown category)."""

from __future__ import annotations

from tests.routing_svc.conftest import Hub


async def test_unknown_category_and_region_are_flagged_and_listed(hub: Hub) -> None:
    await hub.node("DINKES")
    await hub.rule(agency_code="DINKES", category="kesehatan")
    both = await hub.submit(category="tidak-ada", region_code="9999")
    category_only = await hub.submit(category="Bukan-Kategori", region_code="3578010001")
    region_only = await hub.submit(category="puskesmas", region_code="1299")
    known = await hub.submit(category="puskesmas", region_code="3578")
    none_given = await hub.submit(category=None, region_code=None)

    assert (await hub.case(both))["flags"] == ["unknown_category", "unknown_region"]
    assert (await hub.case(category_only))["flags"] == ["unknown_category"]
    flagged_region = await hub.case(region_only)
    assert flagged_region["flags"] == ["unknown_region"]
    assert flagged_region["agency_code"] == "DINKES", "a known category is routed whatever the region"
    assert (await hub.case(known))["flags"] == [] and (await hub.case(none_given))["flags"] == []

    unknown = await hub.case(both)
    assert unknown["status"] == "submitted" and unknown["agency_code"] is None, "it waits in triage"
    listed = await hub.ok("GET", "/api/v1/hub/complaints?flagged=true", 200)
    assert [c["tracking_id"] for c in listed["items"]] == [both, category_only, region_only]
    assert all(c["flags"] for c in listed["items"])
    others = await hub.ok("GET", "/api/v1/hub/complaints?flagged=false", 200)
    assert {c["tracking_id"] for c in others["items"]} == {known, none_given}
    triage = await hub.ok("GET", "/api/v1/hub/complaints?flagged=true&triage=true", 200)
    assert [c["tracking_id"] for c in triage["items"]] == [both, category_only]


async def test_a_deactivated_category_is_unknown_to_new_cases(hub: Hub) -> None:
    await hub.ok("PATCH", "/api/v1/hub/categories/pupuk", 200, json={"is_active": False})
    case = await hub.case(await hub.submit(category="pupuk"))
    assert case["flags"] == ["unknown_category"]
