"""Who sees what: the subtree rule, 404 outside it, roles, revoked keys and unknown nodes."""

from __future__ import annotations

from agency_svc.models import Base
from shared.domain import Role
from tests.agency_svc.conftest import Agency, new_tid
from tests.support.apps import ADMIN_KEY, auth, eventually
from tests.support.databases import stored_text

ACTIONS = (
    ("acknowledge", None),
    ("follow-ups", {"content": "Sedang diperiksa.", "is_final": False}),
    ("forward", {"reason": "Bukan wewenang kami"}),
    ("delegate", {"agency_code": "UPT"}),
)


async def test_a_upt_case_is_seen_by_its_ancestors_and_hidden_from_others(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await eventually(lambda: _in_inbox(tree, "UPT", tid))
    for who in ("KANWIL", "KEMEN"):
        assert tid in await tree.inbox(who)
    case = await tree.case_json("KEMEN", tid)
    assert case["agency_code"] == "UPT"
    assert case["status"] == "dispositioned"
    assert case["status_label"] == "Terverifikasi, Belum Ditindaklanjuti"
    assert case["reporter_name"] == "Siti Aminah"
    assert not any("Siti Aminah" in v for v in await stored_text(tree.runtime.db.engine, Base.metadata))
    assert case["route_kind"] == "rule"
    assert case["disposition_reason"] == "Aturan pemasyarakatan"
    assert case["incident_date"] == "2025-03-01"
    assert case["dispositioned_at"].endswith(("Z", "+00:00"))
    assert [h["kind"] for h in case["history"]] == ["dispositioned"]

    assert tid not in await tree.inbox("OTHER")
    r = await tree.case("OTHER", tid)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    for action, body in ACTIONS:
        r = await tree.post("OTHER", tid, action, body)
        assert r.status_code == 404, (action, r.text)
        assert r.json()["error"]["code"] == "not_found"

    for action, body in (("", None), *ACTIONS):
        path = f"/api/v1/agency/complaints/NOPE-{tid}" + (f"/{action}" if action else "")
        r = await tree.client.request("POST" if action else "GET", path, json=body, headers=tree.h("UPT"))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (action, r.text)


async def test_roles_missing_and_revoked_keys(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await eventually(lambda: _in_inbox(tree, "UPT", tid))
    for headers in (tree.h("coordinator"), tree.h("admin"), auth(ADMIN_KEY)):
        for method, path in (("GET", ""), ("GET", f"/{tid}"), ("POST", f"/{tid}/acknowledge")):
            r = await tree.client.request(method, f"/api/v1/agency/complaints{path}", headers=headers)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    for headers in ({}, auth("sk_agency_not-a-key")):
        r = await tree.client.get("/api/v1/agency/complaints", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    await tree.revoke_key("UPT")
    await eventually(lambda: tree.status_of_inbox("UPT", 401))
    r = await tree.post("UPT", tid, "acknowledge")
    assert r.status_code == 401
    assert tid in await tree.inbox("KANWIL"), "revoking one key leaves the others alone"


async def test_a_key_whose_node_is_unknown_sees_nothing(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "GHOST", 1)
    await tree.issue_key("GHOST", Role.agency, "GHOST")
    await eventually(lambda: tree.ok_inbox("GHOST"))
    # A case held by a node the directory has not described yet is stored, yet no key sees it.
    await eventually(lambda: tree.stored(tid))
    r = await tree.case("GHOST", tid)
    assert r.status_code == 404
    assert await tree.inbox("GHOST") == []
    # Once the directory places GHOST under KEMEN, both see it.
    await tree.node("GHOST", "upt", ["KEMEN", "GHOST"])
    await eventually(lambda: _in_inbox(tree, "GHOST", tid))
    assert tid in await tree.inbox("KEMEN")
    assert tid not in await tree.inbox("KANWIL")


async def test_inbox_filters_by_status_and_pages_newest_first(tree: Agency) -> None:
    tids = [new_tid() for _ in range(5)]
    for tid in tids:
        await tree.dispose(tid, "UPT", 1)
    await eventually(lambda: _count(tree, "KEMEN", 5))
    from shared.domain import Status

    await tree.status(tids[0], Status.in_progress, 2, agency_code="UPT", previous=Status.dispositioned)
    await tree.wait_case("UPT", tids[0], status="in_progress")
    assert await tree.inbox("KANWIL", status="in_progress") == [tids[0]]
    assert set(await tree.inbox("KANWIL", status="dispositioned")) == set(tids[1:])

    r = await tree.client.get("/api/v1/agency/complaints", params={"limit": 2}, headers=tree.h("KEMEN"))
    first = r.json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    assert set(first["items"][0]) >= {
        "tracking_id",
        "title",
        "classification",
        "category",
        "status",
        "status_label",
        "agency_code",
        "dispositioned_at",
        "acknowledged_at",
    }
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = (
            await tree.client.get(
                "/api/v1/agency/complaints", params={"limit": 2, "offset": offset}, headers=tree.h("KEMEN")
            )
        ).json()
        seen += [c["tracking_id"] for c in page["items"]]
        dates = [c["dispositioned_at"] for c in page["items"]]
        assert dates == sorted(dates, reverse=True)
        offset = page["next_offset"]
    assert sorted(seen) == sorted(tids)
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"status": "bogus"}):
        r = await tree.client.get("/api/v1/agency/complaints", params=params, headers=tree.h("KEMEN"))
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_anonymous_reporter_is_anonim(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "KANWIL", 1, is_anonymous=True, reporter_name_sealed=None)
    case = await tree.wait_case("KANWIL", tid, agency_code="KANWIL")
    assert case["reporter_name"] == "Anonim"
    assert case["is_anonymous"] is True


async def _in_inbox(agency: Agency, who: str, tid: str) -> bool:
    return tid in await agency.inbox(who)


async def _count(agency: Agency, who: str, n: int) -> bool:
    return len(await agency.inbox(who, limit=200)) == n


async def test_a_whistleblowing_report_is_for_its_holder_alone(tree: Agency) -> None:
    wbs, ordinary = new_tid(), new_tid()
    await tree.dispose(wbs, "KANWIL", 1, classification="wbs", is_anonymous=True, is_confidential=True)
    await tree.dispose(ordinary, "KANWIL", 1)
    await eventually(lambda: _in_inbox(tree, "KANWIL", wbs))
    await eventually(lambda: _in_inbox(tree, "KANWIL", ordinary))
    assert (await tree.case_json("KANWIL", wbs))["classification"] == "wbs"

    # The Kanwil's parent sees the ordinary case, never the whistleblowing one: not in its inbox, 404 on every call.
    assert ordinary in await tree.inbox("KEMEN") and wbs not in await tree.inbox("KEMEN")
    assert (await tree.case("KEMEN", wbs)).status_code == 404
    for action, body in ACTIONS:
        r = await tree.post("KEMEN", wbs, action, body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (action, r.text)
    r = await tree.post("KANWIL", wbs, "acknowledge")
    assert r.status_code == 200, r.text
