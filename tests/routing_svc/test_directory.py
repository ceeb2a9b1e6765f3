"""The directory over HTTP: CRUD, errors, re-parenting, and directory.node_upserted on the stream."""

from __future__ import annotations

from routing_svc.models import Node
from tests.routing_svc.conftest import Hub
from tests.support.apps import eventually


async def test_create_get_list_and_patch(hub: Hub) -> None:
    root = await hub.node(
        "KEMENKUMHAM",
        categories=["pemasyarakatan"],
        liaison_officers=[{"name": "Budi", "email": "budi@kemenkumham.test", "phone": "+62 21 555"}],
    )
    assert root["path"] == ["KEMENKUMHAM"] and root["depth"] == 0 and root["parent_code"] is None
    assert root["timezone"] == "Asia/Jakarta" and root["is_active"] is True
    assert root["liaison_officers"][0]["email"] == "budi@kemenkumham.test"
    kanwil = await hub.node("KANWIL-JATIM", "kanwil", "KEMENKUMHAM", region_codes=["35"], timezone="WITA")
    assert kanwil["path"] == ["KEMENKUMHAM", "KANWIL-JATIM"] and kanwil["timezone"] == "Asia/Makassar"
    upt = await hub.node("LAPAS_SBY", "upt", "KANWIL-JATIM", region_codes=["3578"], timezone="Asia/Jayapura")
    assert upt["path"] == ["KEMENKUMHAM", "KANWIL-JATIM", "LAPAS_SBY"] and upt["depth"] == 2
    await hub.node("KEMENDIKBUD")

    got = await hub.ok("GET", "/api/v1/hub/agencies/LAPAS_SBY", 200)
    assert got["created_at"].endswith("Z") or got["created_at"].endswith("+00:00")
    children = await hub.ok("GET", "/api/v1/hub/agencies?parent_code=KEMENKUMHAM", 200)
    assert [n["code"] for n in children["items"]] == ["KANWIL-JATIM"]
    upts = await hub.ok("GET", "/api/v1/hub/agencies?kind=upt", 200)
    assert [n["code"] for n in upts["items"]] == ["LAPAS_SBY"]
    found = await hub.ok("GET", "/api/v1/hub/agencies?q=jatim", 200)
    assert [n["code"] for n in found["items"]] == ["KANWIL-JATIM"]
    subtree = await hub.ok("GET", "/api/v1/hub/agencies?under=KEMENKUMHAM", 200)
    assert [n["code"] for n in subtree["items"]] == ["KEMENKUMHAM", "KANWIL-JATIM", "LAPAS_SBY"]
    page = await hub.ok("GET", "/api/v1/hub/agencies?limit=2", 200)
    assert len(page["items"]) == 2 and page["next_offset"] == 2
    last = await hub.ok("GET", "/api/v1/hub/agencies?limit=2&offset=2", 200)
    assert len(last["items"]) == 2 and last["next_offset"] is None

    patched = await hub.ok(
        "PATCH", "/api/v1/hub/agencies/LAPAS_SBY", 200, json={"name": "Lapas Surabaya", "is_active": False}
    )
    assert patched["name"] == "Lapas Surabaya" and patched["is_active"] is False
    assert patched["parent_code"] == "KANWIL-JATIM" and patched["region_codes"] == ["3578"]


async def test_directory_errors(hub: Hub) -> None:
    await hub.node("A")
    dup = await hub.client.post(
        "/api/v1/hub/agencies",
        json={"code": "A", "name": "again", "kind": "instansi"},
        headers={"Authorization": "Bearer sk_admin_test-bootstrap-key-0123456789abcdefghijklmnop"},
    )
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "agency_exists"
    r = await hub.ok(
        "POST", "/api/v1/hub/agencies", 422, json={"code": "B", "name": "b", "kind": "upt", "parent_code": "NOPE"}
    )
    assert r["error"]["code"] == "unknown_parent"
    for bad in (
        {"code": "has.dot", "name": "x", "kind": "instansi"},
        {"code": "C", "name": "x", "kind": "galaxy"},
        {"code": "C", "name": "x", "kind": "instansi", "timezone": "Europe/Paris"},
        {"code": "C", "name": "x", "kind": "instansi", "region_codes": ["3"]},
        {"code": "C", "name": "", "kind": "instansi"},
        {"code": "C", "name": "x", "kind": "instansi", "liaison_officers": [{"name": "x", "email": "not-an-email"}]},
    ):
        r = await hub.ok("POST", "/api/v1/hub/agencies", 422, json=bad)
        assert r["error"]["code"] == "validation_error", bad
    await hub.ok("GET", "/api/v1/hub/agencies/NOPE", 404)
    await hub.ok("PATCH", "/api/v1/hub/agencies/NOPE", 404, json={"name": "x"})
    r = await hub.ok("PATCH", "/api/v1/hub/agencies/A", 422, json={"parent_code": "NOPE"})
    assert r["error"]["code"] == "unknown_parent"


async def test_reparent_moves_the_subtree_and_refuses_cycles(hub: Hub) -> None:
    await hub.node("KEMENHUB")
    await hub.node("PEMPROV", "instansi")
    await hub.node("KANWIL", "kanwil", "KEMENHUB")
    await hub.node("UPT", "upt", "KANWIL")
    await hub.node("UPT_SUB", "unit", "UPT")

    for parent in ("KANWIL", "UPT", "UPT_SUB"):
        r = await hub.ok("PATCH", "/api/v1/hub/agencies/KANWIL", 422, json={"parent_code": parent})
        assert r["error"]["code"] == "cycle", parent

    moved = await hub.ok("PATCH", "/api/v1/hub/agencies/KANWIL", 200, json={"parent_code": "PEMPROV"})
    assert moved["path"] == ["PEMPROV", "KANWIL"]
    sub = await hub.ok("GET", "/api/v1/hub/agencies/UPT_SUB", 200)
    assert sub["path"] == ["PEMPROV", "KANWIL", "UPT", "UPT_SUB"] and sub["depth"] == 3
    under_old = await hub.ok("GET", "/api/v1/hub/agencies?under=KEMENHUB", 200)
    assert [n["code"] for n in under_old["items"]] == ["KEMENHUB"]

    root = await hub.ok("PATCH", "/api/v1/hub/agencies/UPT", 200, json={"parent_code": None})
    assert root["path"] == ["UPT"] and root["depth"] == 0
    sub = await hub.ok("GET", "/api/v1/hub/agencies/UPT_SUB", 200)
    assert sub["path"] == ["UPT", "UPT_SUB"] and sub["depth"] == 1

    async def upserts() -> list[dict] | None:
        found = await hub.events("simpul.directory.node_upserted")
        return found if len(found) >= 5 + 3 + 2 else None

    events = await eventually(upserts)
    paths = [(e["data"]["code"], e["data"]["path"]) for e in events]
    assert paths[:5] == [
        ("KEMENHUB", ["KEMENHUB"]),
        ("PEMPROV", ["PEMPROV"]),
        ("KANWIL", ["KEMENHUB", "KANWIL"]),
        ("UPT", ["KEMENHUB", "KANWIL", "UPT"]),
        ("UPT_SUB", ["KEMENHUB", "KANWIL", "UPT", "UPT_SUB"]),
    ]
    assert paths[5:] == [
        ("KANWIL", ["PEMPROV", "KANWIL"]),
        ("UPT", ["PEMPROV", "KANWIL", "UPT"]),
        ("UPT_SUB", ["PEMPROV", "KANWIL", "UPT", "UPT_SUB"]),
        ("UPT", ["UPT"]),
        ("UPT_SUB", ["UPT", "UPT_SUB"]),
    ]
    assert events[5]["data"]["parent_code"] == "PEMPROV" and events[5]["data"]["timezone"] == "Asia/Jakarta"


async def test_roles(hub: Hub) -> None:
    await hub.node("X")
    coordinator = (await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"}))["key"]
    agency = (await hub.ok("POST", "/api/v1/hub/agencies/X/api-keys", 201, json={}))["key"]
    body = {"code": "Y", "name": "y", "kind": "instansi"}
    for method, path, json in (
        ("POST", "/api/v1/hub/agencies", body),
        ("GET", "/api/v1/hub/agencies", None),
        ("GET", "/api/v1/hub/agencies/X", None),
        ("PATCH", "/api/v1/hub/agencies/X", {"name": "z"}),
        ("GET", "/api/v1/hub/complaints", None),
        ("GET", "/api/v1/hub/routing-rules", None),
        ("GET", "/api/v1/hub/stats/agencies", None),
        ("GET", "/api/v1/hub/api-keys", None),
    ):
        r = await hub.client.request(method, path, json=json)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated", path
        r = await hub.client.request(method, path, json=json, headers={"Authorization": "Bearer sk_wrong"})
        assert r.status_code == 401, path
        r = await hub.client.request(method, path, json=json, headers={"Authorization": f"Bearer {agency}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", path
    # Coordinators read the directory, rules, cases and statistics, but write none of the directory, keys or rules.
    for path in (
        "/api/v1/hub/agencies",
        "/api/v1/hub/agencies/X",
        "/api/v1/hub/routing-rules",
        "/api/v1/hub/stats/agencies",
    ):
        await hub.ok("GET", path, 200, key=coordinator)
    await hub.ok("POST", "/api/v1/hub/agencies", 403, key=coordinator, json=body)
    await hub.ok("PATCH", "/api/v1/hub/agencies/X", 403, key=coordinator, json={"name": "z"})
    await hub.ok("POST", "/api/v1/hub/routing-rules", 403, key=coordinator, json={"agency_code": "X"})
    await hub.ok("POST", "/api/v1/hub/api-keys", 403, key=coordinator, json={"role": "admin"})
    await hub.ok("GET", "/api/v1/hub/api-keys", 403, key=coordinator)


async def test_node_upserted_carries_the_liaison_officers_notify_writes_to(hub: Hub) -> None:
    officers = [
        {"name": "Budi", "email": "budi@lapas.test", "phone": "+62 31 555"},
        {"name": "Sari", "email": "sari@lapas.test", "language": "en"},
        {"name": "Hanya telepon", "phone": "+62 31 556"},
    ]
    node = await hub.node("LAPAS", liaison_officers=officers)
    assert [o["language"] for o in node["liaison_officers"]] == ["id", "en", "id"]
    await hub.ok("PATCH", "/api/v1/hub/agencies/LAPAS", 200, json={"liaison_officers": officers[1:]})

    async def upserts() -> list[dict] | None:
        found = await hub.events("simpul.directory.node_upserted")
        return found if len(found) == 2 else None

    created, patched = await eventually(upserts)
    assert created["data"]["liaison_officers"] == [
        {"name": "Budi", "email": "budi@lapas.test", "language": "id"},
        {"name": "Sari", "email": "sari@lapas.test", "language": "en"},
    ], "those with an email, and nothing notify does not need (no phone)"
    assert patched["data"]["liaison_officers"] == [{"name": "Sari", "email": "sari@lapas.test", "language": "en"}]


async def test_an_officer_saved_under_an_older_address_rule_is_still_shown(hub: Hub) -> None:
    """The email rule is checked on the way in; what is stored (perhaps under an older rule) is shown as it is."""
    await hub.node("LAMA")
    async with hub.runtime.db.session() as session, session.begin():
        node = await session.get(Node, "LAMA")
        assert node is not None
        node.liaison_officers = [{"name": "Lama", "email": "lama@kantor.local", "phone": None, "language": "id"}]
    shown = await hub.ok("GET", "/api/v1/hub/agencies/LAMA", 200)
    assert shown["liaison_officers"][0]["email"] == "lama@kantor.local"
    listed = await hub.ok("GET", "/api/v1/hub/agencies", 200)
    assert [n["code"] for n in listed["items"]] == ["LAMA"]
