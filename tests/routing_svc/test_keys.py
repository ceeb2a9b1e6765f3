"""API keys: issued once, listed by prefix only, revoked; auth.key_issued / auth.key_revoked on the stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.routing_svc.conftest import Hub
from tests.support.apps import eventually


async def test_issue_list_revoke_and_replicate(hub: Hub) -> None:
    await hub.node("KEMENKUMHAM")
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    agency = await hub.ok(
        "POST", "/api/v1/hub/agencies/KEMENKUMHAM/api-keys", 201, json={"label": "SIMPEG", "expires_at": expires}
    )
    assert agency["role"] == "agency" and agency["agency_code"] == "KEMENKUMHAM"
    assert agency["key"].startswith(agency["prefix"]) and agency["expires_at"] is not None
    coordinator = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator", "label": "Tim"})
    assert coordinator["role"] == "coordinator" and coordinator["agency_code"] is None

    listed = await hub.ok("GET", "/api/v1/hub/agencies/KEMENKUMHAM/api-keys", 200)
    assert [k["key_id"] for k in listed["items"]] == [agency["key_id"]]
    everything = await hub.ok("GET", "/api/v1/hub/api-keys", 200)
    assert {k["key_id"] for k in everything["items"]} == {agency["key_id"], coordinator["key_id"]}
    only_staff = await hub.ok("GET", "/api/v1/hub/api-keys?role=coordinator", 200)
    assert [k["key_id"] for k in only_staff["items"]] == [coordinator["key_id"]]
    for item in everything["items"]:
        assert "key" not in item and "key_hash" not in item
        assert agency["key"] not in str(item) and coordinator["key"] not in str(item)
    assert everything["items"][0]["label"] == "SIMPEG"

    # The issued coordinator key works at once; once revoked it is refused.
    await hub.ok("GET", "/api/v1/hub/complaints", 200, key=coordinator["key"])
    await hub.ok("DELETE", f"/api/v1/hub/api-keys/{coordinator['key_id']}", 204)
    r = await hub.ok("GET", "/api/v1/hub/complaints", 401, key=coordinator["key"])
    assert r["error"]["code"] == "unauthenticated"
    await hub.ok("DELETE", f"/api/v1/hub/api-keys/{coordinator['key_id']}", 204)  # twice: no-op
    await hub.ok("DELETE", "/api/v1/hub/api-keys/no-such-key", 404)
    revoked = await hub.ok("GET", "/api/v1/hub/api-keys?role=coordinator", 200)
    assert revoked["items"][0]["revoked_at"] is not None and revoked["items"][0]["is_active"] is False

    async def replicated() -> tuple[list[dict], list[dict]] | None:
        issued = await hub.events("simpul.auth.key_issued")
        gone = await hub.events("simpul.auth.key_revoked")
        return (issued, gone) if len(issued) == 2 and gone else None

    issued, gone = await eventually(replicated)
    assert [e["data"]["key_id"] for e in issued] == [agency["key_id"], coordinator["key_id"]]
    assert issued[0]["data"]["agency_code"] == "KEMENKUMHAM" and issued[0]["data"]["role"] == "agency"
    assert len(issued[0]["data"]["key_hash"]) == 64 and agency["key"] not in str(issued)
    assert [e["data"]["key_id"] for e in gone] == [coordinator["key_id"]]


async def test_key_errors(hub: Hub) -> None:
    await hub.node("A")
    await hub.ok("POST", "/api/v1/hub/agencies/NOPE/api-keys", 404, json={})
    await hub.ok("GET", "/api/v1/hub/agencies/NOPE/api-keys", 404)
    r = await hub.ok("POST", "/api/v1/hub/api-keys", 422, json={"role": "agency"})
    assert r["error"]["code"] == "validation_error"
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await hub.ok("POST", "/api/v1/hub/agencies/A/api-keys", 422, json={"expires_at": past})
    assert r["error"]["code"] == "invalid_expiry"
    await hub.ok("PATCH", "/api/v1/hub/agencies/A", 200, json={"is_active": False})
    r = await hub.ok("POST", "/api/v1/hub/agencies/A/api-keys", 409, json={})
    assert r["error"]["code"] == "agency_inactive"
    admin = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "admin"})
    channel = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "channel", "label": "SMS 1708"})
    assert channel["role"] == "channel" and channel["agency_code"] is None
    r = await hub.ok("GET", "/api/v1/hub/complaints", 403, key=channel["key"])
    assert r["error"]["code"] == "forbidden"
    await hub.ok("POST", "/api/v1/hub/api-keys", 201, key=admin["key"], json={"role": "coordinator"})


async def test_rotation_issues_a_like_key_and_retires_the_old_one(hub: Hub) -> None:
    await hub.node("KEMENKUMHAM")
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    old = await hub.ok(
        "POST",
        "/api/v1/hub/agencies/KEMENKUMHAM/api-keys",
        201,
        json={"label": "SIMPEG", "expires_at": expires.isoformat()},
    )
    coordinator = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "coordinator"})

    # With a grace period the old key keeps working beside the new one, and says when it stops.
    new = await hub.ok("POST", f"/api/v1/hub/api-keys/{old['key_id']}/rotate", 201, json={"grace_seconds": 3600})
    assert new["key"] != old["key"] and new["key_id"] != old["key_id"]
    assert (new["role"], new["agency_code"], new["label"]) == ("agency", "KEMENKUMHAM", "SIMPEG")
    assert datetime.fromisoformat(new["expires_at"]) == expires
    listed = {k["key_id"]: k for k in (await hub.ok("GET", "/api/v1/hub/agencies/KEMENKUMHAM/api-keys", 200))["items"]}
    assert listed[old["key_id"]]["is_active"] is True and listed[old["key_id"]]["revoked_at"] is not None
    assert datetime.fromisoformat(listed[old["key_id"]]["revoked_at"]) > datetime.now(UTC) + timedelta(minutes=59)
    assert listed[new["key_id"]]["is_active"] is True and listed[new["key_id"]]["revoked_at"] is None

    # Without one, the old key stops at once.
    staff = await hub.ok("POST", f"/api/v1/hub/api-keys/{coordinator['key_id']}/rotate", 201, json={})
    assert staff["role"] == "coordinator"
    await hub.ok("GET", "/api/v1/hub/complaints", 401, key=coordinator["key"])
    await hub.ok("GET", "/api/v1/hub/complaints", 200, key=staff["key"])
    refused = await hub.ok("POST", f"/api/v1/hub/api-keys/{coordinator['key_id']}/rotate", 409, json={})
    assert refused["error"]["code"] == "key_inactive"
    await hub.ok("POST", "/api/v1/hub/api-keys/no-such-key/rotate", 404, json={})
    await hub.ok("POST", f"/api/v1/hub/api-keys/{old['key_id']}/rotate", 422, json={"grace_seconds": -1})
    await hub.ok("POST", f"/api/v1/hub/api-keys/{old['key_id']}/rotate", 403, key=staff["key"], json={})

    async def replicated() -> list[dict] | None:
        gone = await hub.events("simpul.auth.key_revoked")
        return gone if len(gone) == 2 else None

    gone = {e["data"]["key_id"]: e["data"]["revoked_at"] for e in await eventually(replicated)}
    assert set(gone) == {old["key_id"], coordinator["key_id"]}
