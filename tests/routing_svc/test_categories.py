"""The category tree over HTTP: the default tree seeded at start, each error, category.changed on the stream, rules
that must name a known category, and a parent category's rule covering its children."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from routing_svc.app import create_app
from routing_svc.categories.service import DEFAULT_TREE
from routing_svc.settings import RoutingSettings
from tests.routing_svc.conftest import Hub
from tests.support.apps import ADMIN_KEY, auth, running_service, service_settings
from tests.support.databases import TestDatabase

CATEGORIES = "/api/v1/hub/categories"


def category(code: str, parent: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Kategori {code}", "name_en": f"Category {code}", "parent_code": parent, **extra}


async def test_the_default_tree_is_seeded_at_start_and_published(hub: Hub) -> None:
    shipped = json.loads(DEFAULT_TREE.read_text(encoding="utf-8"))
    listed = await hub.ok("GET", f"{CATEGORIES}?limit=200", 200)
    assert {c["code"] for c in listed["items"]} == {c["code"] for c in shipped}
    top = [c for c in listed["items"] if c["parent_code"] is None]
    assert 12 <= len(top) <= 15
    assert {"kesehatan", "pendidikan", "kependudukan", "infrastruktur", "desa", "pajak", "keamanan"} <= {
        c["code"] for c in top
    }
    for c in listed["items"]:
        assert c["name"] and c["name_en"] and c["description"] and c["description_en"] and c["is_active"]
    seen: set[str] = set()
    for c in listed["items"]:  # tree order: a parent before its children
        assert c["parent_code"] is None or c["parent_code"] in seen
        seen.add(c["code"])
    events = await hub.events("simpul.category.changed")
    assert {e["data"]["code"] for e in events} == {c["code"] for c in shipped}
    assert all(e["data"]["version"] == 1 for e in events)


def _admin() -> dict[str, str]:
    return auth(ADMIN_KEY)


async def test_a_tree_of_the_operators_own_is_seeded_instead_and_none_when_told(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps([category("layanan"), category("loket", "layanan")]))
    settings = service_settings(RoutingSettings, database, natsd, tmp_path, default_categories=str(tree))
    async with running_service("routing_svc", create_app, settings) as (_, client):
        r = await client.get(CATEGORIES, headers=_admin())
        assert [c["code"] for c in r.json()["items"]] == ["layanan", "loket"]
    # A second start finds the table full and changes nothing.
    settings = service_settings(RoutingSettings, database, natsd, tmp_path)
    async with running_service("routing_svc", create_app, settings) as (_, client):
        r = await client.get(CATEGORIES, headers=_admin())
        assert [c["code"] for c in r.json()["items"]] == ["layanan", "loket"]


async def test_create_patch_and_every_error(hub: Hub) -> None:
    made = await hub.ok(
        "POST", CATEGORIES, 201, json=category("RSUD", "kesehatan", classifications=["pengaduan", "aspirasi"])
    )
    assert made["code"] == "rsud" and made["parent_code"] == "kesehatan"
    assert made["classifications"] == ["pengaduan", "aspirasi"] and made["is_active"] is True
    got = await hub.ok("GET", f"{CATEGORIES}/rsud", 200)
    assert got == made

    dup = await hub.ok("POST", CATEGORIES, 409, json=category("rsud"))
    assert dup["error"]["code"] == "category_exists"
    orphan = await hub.ok("POST", CATEGORIES, 422, json=category("anak", "tidak-ada"))
    assert orphan["error"]["code"] == "unknown_parent"
    for bad in (category("ada.titik"), category("ada spasi"), category(""), {"code": "x", "name": "x"}):
        r = await hub.ok("POST", CATEGORIES, 422, json=bad)
        assert r["error"]["code"] == "validation_error"
    wrong_class = await hub.ok("POST", CATEGORIES, 422, json=category("y", classifications=["keluhan"]))
    assert wrong_class["error"]["code"] == "validation_error"

    await hub.ok("GET", f"{CATEGORIES}/tidak-ada", 404)
    missing = await hub.ok("PATCH", f"{CATEGORIES}/tidak-ada", 404, json={"name": "x"})
    assert missing["error"]["code"] == "not_found"
    cycle = await hub.ok("PATCH", f"{CATEGORIES}/kesehatan", 422, json={"parent_code": "rsud"})
    assert cycle["error"]["code"] == "cycle"
    itself = await hub.ok("PATCH", f"{CATEGORIES}/kesehatan", 422, json={"parent_code": "kesehatan"})
    assert itself["error"]["code"] == "cycle"
    nowhere = await hub.ok("PATCH", f"{CATEGORIES}/rsud", 422, json={"parent_code": "tidak-ada"})
    assert nowhere["error"]["code"] == "unknown_parent"

    moved = await hub.ok(
        "PATCH",
        f"{CATEGORIES}/rsud",
        200,
        json={"name": "RSUD", "name_en": "Regional hospitals", "parent_code": "rumah-sakit", "classifications": []},
    )
    assert (moved["name"], moved["name_en"], moved["parent_code"]) == ("RSUD", "Regional hospitals", "rumah-sakit")
    assert moved["classifications"] == []
    root = await hub.ok("PATCH", f"{CATEGORIES}/rsud", 200, json={"parent_code": None, "is_active": False})
    assert root["parent_code"] is None and root["is_active"] is False
    inactive = await hub.ok("GET", f"{CATEGORIES}?active=false", 200)
    assert [c["code"] for c in inactive["items"]] == ["rsud"]

    events = [e["data"] for e in await hub.events("simpul.category.changed") if e["data"]["code"] == "rsud"]
    assert [e["version"] for e in events] == [1, 2, 3] and events[-1]["is_active"] is False


async def test_the_tree_has_a_depth_limit(hub: Hub) -> None:
    parent = "kesehatan"
    for n in range(4):  # kesehatan + 5 levels = 6
        await hub.ok("POST", CATEGORIES, 201, json=category(f"lapis-{n}", parent))
        parent = f"lapis-{n}"
    await hub.ok("POST", CATEGORIES, 201, json=category("lapis-4", parent))
    deep = await hub.ok("POST", CATEGORIES, 422, json=category("lapis-5", "lapis-4"))
    assert deep["error"]["code"] == "too_deep"
    moved = await hub.ok("PATCH", f"{CATEGORIES}/lapis-0", 422, json={"parent_code": "rumah-sakit"})
    assert moved["error"]["code"] == "too_deep"


async def test_only_admins_write_and_staff_read(hub: Hub) -> None:
    coordinator = (await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"}))["key"]
    await hub.ok("GET", CATEGORIES, 200, key=coordinator)
    refused = await hub.ok("POST", CATEGORIES, 403, key=coordinator, json=category("z"))
    assert refused["error"]["code"] == "forbidden"
    await hub.ok("PATCH", f"{CATEGORIES}/kesehatan", 403, key=coordinator, json={"name": "x"})
    await hub.ok("GET", CATEGORIES, 401, key=None)


async def test_a_create_with_an_idempotency_key_is_done_once(hub: Hub) -> None:
    headers = {"Idempotency-Key": "cat-1"}
    made = await hub.client.post(CATEGORIES, json=category("sekali"), headers=_admin() | headers)
    assert made.status_code == 201
    first = made.json()
    again = await hub.client.post(CATEGORIES, json=category("sekali"), headers=_admin() | headers)
    assert again.status_code == 201 and again.json() == first
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_a_rule_must_name_an_active_category(hub: Hub) -> None:
    await hub.node("DINKES")
    unknown = await hub.ok("POST", "/api/v1/hub/routing-rules", 422, json={"agency_code": "DINKES", "category": "x"})
    assert unknown["error"]["code"] == "unknown_category"
    await hub.ok("PATCH", f"{CATEGORIES}/puskesmas", 200, json={"is_active": False})
    inactive = await hub.ok(
        "POST", "/api/v1/hub/routing-rules", 422, json={"agency_code": "DINKES", "category": "puskesmas"}
    )
    assert inactive["error"]["code"] == "unknown_category"
    made = await hub.rule(agency_code="DINKES", category="Kesehatan")
    assert made["category"] == "kesehatan"
    await hub.rule(agency_code="DINKES", keywords=["obat"])  # a rule without a category needs none


@pytest.mark.parametrize("own_rule_first", [True, False])
async def test_a_parent_category_covers_its_children_and_the_nearer_one_wins(hub: Hub, own_rule_first: bool) -> None:
    for code in ("DINKES", "RSUD-DR-SOETOMO", "DINDIK"):
        await hub.node(code)
    await hub.ok("POST", CATEGORIES, 201, json=category("rsud", "rumah-sakit"))
    rules = [("RSUD-DR-SOETOMO", "rsud"), ("DINKES", "kesehatan")]
    for agency, cat in rules if own_rule_first else reversed(rules):
        await hub.rule(agency_code=agency, category=cat)
    await hub.rule(agency_code="DINDIK", category="pendidikan")

    grandchild = await hub.case(await hub.submit(category="rsud", region_code="3578"))
    assert grandchild["agency_code"] == "RSUD-DR-SOETOMO", "its own category's rule beats its grandparent's"
    child = await hub.case(await hub.submit(category="Puskesmas", region_code="3578"))
    assert child["agency_code"] == "DINKES", "kesehatan covers puskesmas"
    assert child["history"][-1]["route_kind"] == "rule"
    other = await hub.case(await hub.submit(category="sekolah", region_code="3578"))
    assert other["agency_code"] == "DINDIK"
    assert child["flags"] == [] and other["flags"] == []
