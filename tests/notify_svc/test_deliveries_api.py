"""The delivery log API: coordinator and admin keys (replicated from auth.* events), filters, pages, 401/403/404."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain import Role, Status
from shared.events.contracts import KeyRevoked
from tests.notify_svc.conftest import Notify, new_tid
from tests.support.apps import auth, eventually, publish

PATH = "/api/v1/notify/deliveries"


async def test_delivery_log_access_filters_and_pages(notify: Notify) -> None:
    coordinator = notify.runtime.keystore.new_key(Role.coordinator)
    agency = notify.runtime.keystore.new_key(Role.agency, "LAPAS-SBY")
    await publish(notify.bus, coordinator.event, source="routing")
    await publish(notify.bus, agency.event, source="routing")

    async def status_with(key: str) -> int:
        return (await notify.client.get(PATH, headers=auth(key))).status_code

    await eventually(lambda: _is(status_with(coordinator.key), 200))
    await eventually(lambda: _is(status_with(agency.key), 403))
    r = await notify.client.get(PATH)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert (await notify.client.get(PATH, headers=auth("sk_coordinator_nope"))).status_code == 401
    r = await notify.client.get(PATH, headers=auth(agency.key))
    assert r.json()["error"]["code"] == "forbidden"

    tid, other = new_tid(), new_tid()
    await notify.contact(tid, email_address="rahasia.sekali@example.test")
    await notify.contact(other, email_address=None, phone=None)
    for version, status in enumerate((Status.submitted, Status.dispositioned), start=1):
        await notify.status(tid, status, version)
    await notify.status(other, Status.dispositioned, 2)
    await notify.wait_deliveries(tid, 3, status="sent")
    await notify.wait_deliveries(other, 2, status="skipped", reason="no_address")

    h = auth(coordinator.key)
    page = (await notify.client.get(PATH, params={"tracking_id": tid, "limit": 2}, headers=h)).json()
    assert len(page["items"]) == 2 and page["next_offset"] == 2
    rest = (await notify.client.get(PATH, params={"tracking_id": tid, "limit": 2, "offset": 2}, headers=h)).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    ids = [i["id"] for i in page["items"] + rest["items"]]
    assert len(set(ids)) == 3
    assert {i["template"] for i in page["items"] + rest["items"]} == {"confirmation", "status_changed"}
    item = page["items"][0]
    assert set(item) >= {
        "id",
        "event_type",
        "tracking_id",
        "recipient_kind",
        "recipient_id",
        "channel",
        "template",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "next_attempt_at",
    }
    assert item["created_at"].endswith(("Z", "+00:00")) and item["sent_at"].endswith(("Z", "+00:00"))
    assert item["recipient_kind"] == "reporter" and item["recipient_id"] == ""

    skipped = (await notify.client.get(PATH, params={"status": "skipped"}, headers=h)).json()["items"]
    assert sorted((i["tracking_id"], i["template"], i["reason"]) for i in skipped) == [
        (other, "confirmation", "no_address"),
        (other, "status_changed", "no_address"),
    ]
    for_officers = await notify.client.get(PATH, params={"recipient_kind": "liaison"}, headers=h)
    assert for_officers.status_code == 200 and for_officers.json()["items"] == []
    everything = await notify.client.get(PATH, params={"limit": 200}, headers=h)
    assert "rahasia.sekali" not in everything.text and "Siti" not in everything.text

    one = await notify.client.get(f"{PATH}/{ids[0]}", headers=h)
    assert one.status_code == 200 and one.json() == page["items"][0]
    missing = await notify.client.get(f"{PATH}/00000000-0000-0000-0000-000000000000", headers=h)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert (await notify.client.get(f"{PATH}/{ids[0]}", headers=auth(agency.key))).status_code == 403
    assert (await notify.client.get(f"{PATH}/{ids[0]}")).status_code == 401

    bad_params = (
        {"status": "lost"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"tracking_id": "bad id!"},
        {"recipient_kind": "someone"},
    )
    for bad in bad_params:
        r = await notify.client.get(PATH, params=bad, headers=h)
        assert r.status_code == 422, bad

    await publish(notify.bus, KeyRevoked(key_id=coordinator.event.key_id, revoked_at=datetime.now(UTC)))
    await eventually(lambda: _is(status_with(coordinator.key), 401))


async def _is(aw, expected: int) -> bool:
    return await aw == expected
