"""The public reference lists: no key, their shapes, their filters, and caching (strong ETag, 304)."""

from __future__ import annotations

import re

import httpx

from tests.routing_svc.conftest import Hub

REF = "/api/v1/reference"


async def _get(hub: Hub, path: str, status: int = 200, **headers: str) -> httpx.Response:
    r = await hub.client.get(path, headers=headers)
    assert r.status_code == status, r.text
    return r


async def test_categories_without_a_key_active_only_and_by_classification(hub: Hub) -> None:
    r = await _get(hub, f"{REF}/categories")
    items = r.json()["items"]
    assert set(items[0]) == {
        "code",
        "name",
        "name_en",
        "parent_code",
        "classifications",
        "description",
        "description_en",
    }
    assert items[0]["code"] == "bansos" or items[0]["parent_code"] is None
    codes = [c["code"] for c in items]
    assert "kesehatan" in codes and "pungli" in codes and "rumah-sakit" in codes
    assert codes.index("kesehatan") < codes.index("rumah-sakit")

    await hub.ok("PATCH", "/api/v1/hub/categories/pangan", 200, json={"is_active": False})
    after = [c["code"] for c in (await _get(hub, f"{REF}/categories")).json()["items"]]
    assert "pangan" not in after and len(after) == len(codes) - 1

    informasi = [c["code"] for c in (await _get(hub, f"{REF}/categories?classification=aspirasi")).json()["items"]]
    assert "pungli" not in informasi and "aparatur" not in informasi and "kesehatan" in informasi
    wbs = [c["code"] for c in (await _get(hub, f"{REF}/categories?classification=wbs")).json()["items"]]
    assert "pungli" in wbs
    bad = await _get(hub, f"{REF}/categories?classification=keluhan", 422)
    assert bad.json()["error"]["code"] == "validation_error"


async def test_regions_provinces_their_regencies_and_unknown_parents(hub: Hub) -> None:
    provinces = (await _get(hub, f"{REF}/regions")).json()["items"]
    assert len(provinces) == 38
    assert provinces[0] == {
        "code": "11",
        "name": "Aceh",
        "kind": "province",
        "parent_code": None,
        "timezone": "Asia/Jakarta",
    }
    zones = {p["code"]: p["timezone"] for p in provinces}
    assert (zones["51"], zones["94"], zones["61"]) == ("Asia/Makassar", "Asia/Jayapura", "Asia/Jakarta")
    sumut = (await _get(hub, f"{REF}/regions?parent_code=12")).json()["items"]
    assert len(sumut) == 33 and all(r["parent_code"] == "12" for r in sumut)
    medan = next(r for r in sumut if r["code"] == "1271")
    assert medan == {
        "code": "1271",
        "name": "Kota Medan",
        "kind": "city",
        "parent_code": "12",
        "timezone": "Asia/Jakarta",
    }
    assert any(r["kind"] == "regency" for r in sumut)
    assert (await _get(hub, f"{REF}/regions?parent_code=1271")).json()["items"] == []
    unknown = await _get(hub, f"{REF}/regions?parent_code=99", 404)
    assert unknown.json()["error"]["code"] == "not_found"
    malformed = await _get(hub, f"{REF}/regions?parent_code=12.71", 422)
    assert malformed.json()["error"]["code"] == "validation_error"


async def test_agencies_show_the_public_part_of_active_nodes(hub: Hub) -> None:
    await hub.node(
        "KEMENKES",
        categories=["kesehatan"],
        region_codes=["35"],
        liaison_officers=[{"name": "Budi", "email": "budi@kemenkes.test", "phone": "+62 21 555"}],
    )
    await hub.node("INSPEKTORAT", "inspektorat", "KEMENKES")
    await hub.ok("PATCH", "/api/v1/hub/agencies/KEMENKES", 200, json={"integrity_node_code": "INSPEKTORAT"})
    await hub.node("RSUD", "upt", "KEMENKES", region_codes=["3578"])
    await hub.node("TUTUP", "upt", "KEMENKES", is_active=False)
    await hub.ok("POST", "/api/v1/hub/agencies/RSUD/api-keys", 201, json={})

    r = await _get(hub, f"{REF}/agencies")
    items = r.json()["items"]
    assert [n["code"] for n in items] == ["KEMENKES", "INSPEKTORAT", "RSUD"]
    assert items[0] == {
        "code": "KEMENKES",
        "name": "Node KEMENKES",
        "kind": "instansi",
        "parent_code": None,
        "region_codes": ["35"],
        "categories": ["kesehatan"],
    }
    assert "budi" not in r.text.lower() and "integrity" not in r.text and "sk_" not in r.text
    children = (await _get(hub, f"{REF}/agencies?parent_code=KEMENKES")).json()["items"]
    assert [n["code"] for n in children] == ["INSPEKTORAT", "RSUD"]


async def test_every_list_has_a_strong_etag_and_answers_304(hub: Hub) -> None:
    for path in (f"{REF}/categories", f"{REF}/regions", f"{REF}/regions?parent_code=35", f"{REF}/agencies"):
        first = await _get(hub, path)
        etag = first.headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag), "a strong ETag"
        assert first.headers["Cache-Control"] == "public, max-age=300"
        again = await _get(hub, path, 304, **{"If-None-Match": etag})
        assert again.content == b"" and again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "public, max-age=300"
        await _get(hub, path, 304, **{"If-None-Match": f'"other", W/{etag}'})
        changed = await _get(hub, path, 200, **{"If-None-Match": '"something-else"'})
        assert changed.json() == first.json()

    before = (await _get(hub, f"{REF}/categories")).headers["ETag"]
    await hub.ok("PATCH", "/api/v1/hub/categories/pupuk", 200, json={"name": "Pupuk"})
    after = await _get(hub, f"{REF}/categories", 200, **{"If-None-Match": before})
    assert after.headers["ETag"] != before, "a change makes a new ETag"


async def test_anonymous_callers_are_not_limited(hub: Hub) -> None:
    for _ in range(150):
        await _get(hub, f"{REF}/regions")
