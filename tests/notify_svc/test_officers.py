"""Liaison officers and coordinators: the officers come from routing's directory (directory.node_upserted, the one
place they are kept), the coordinators are registered by admins under /api/v1/notify/recipients; both are told of
escalations (the node concerned and the coordinators at the rung's level), never anything of the reporter."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from notify_svc.models import KIT
from shared.domain import EscalationTarget, Role
from shared.events import new_event
from tests.notify_svc.conftest import Notify, SmtpServer, body_of, new_tid
from tests.support.apps import auth, eventually, publish

PATH = "/api/v1/notify/recipients"


async def test_coordinators_are_registered_by_admins(notify: Notify) -> None:
    coordinator = notify.runtime.keystore.new_key(Role.coordinator)
    await publish(notify.bus, coordinator.event, source="routing")

    async def refused_for_coordinator() -> bool:
        return (await notify.client.get(PATH, headers=auth(coordinator.key))).status_code == 403

    await eventually(refused_for_coordinator)
    body = {"role": "coordinator", "level": 3, "email": "a@b.example"}
    r = await notify.client.post(PATH, json=body)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    r = await notify.client.post(PATH, json=body, headers=auth(coordinator.key))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

    sari = await notify.recipient(role="coordinator", level=3, email=" Sari@Hub.Example", timezone="WIT", language="en")
    assert sari["email"] == "sari@hub.example" and sari["timezone"] == "Asia/Jayapura" and sari["language"] == "en"
    assert sari["is_system"] is False and sari["node_code"] is None and sari["level"] == 3
    again = await notify.recipient(level=1, email="sari@hub.example")  # the role may be left out
    assert again["role"] == "coordinator" and again["id"] != sari["id"], "the same address may serve several rungs"

    r = await notify.client.post(PATH, json={"level": 3, "email": "sari@hub.example"}, headers=notify.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "recipient_exists"
    invalid = (
        {"role": "coordinator", "email": "x@y.example"},
        {"role": "coordinator", "level": 5, "email": "x@y.example"},
        {"role": "coordinator", "level": 3, "email": "not an address"},
        {"role": "coordinator", "level": 3, "email": "x@y.example", "timezone": "Europe/Paris"},
        {"role": "coordinator", "level": 3, "email": "x@y.example", "phone": "+62811"},
        {"role": "reporter", "level": 3, "email": "x@y.example"},
    )
    for bad in invalid:
        r = await notify.client.post(PATH, json=bad, headers=notify.admin)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", bad
    for liaison in (
        {"role": "liaison", "node_code": "LAPAS-SBY", "email": "budi@lapas.example"},
        {"role": "coordinator", "level": 1, "node_code": "LAPAS-SBY", "email": "budi@lapas.example"},
    ):
        r = await notify.client.post(PATH, json=liaison, headers=notify.admin)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", liaison
        assert "PATCH /api/v1/hub/agencies/{code}" in r.text, "says where liaison officers are kept"

    listed = (await notify.client.get(PATH, params={"level": 3}, headers=notify.admin)).json()
    assert [i["id"] for i in listed["items"]] == [sari["id"]] and listed["next_offset"] is None
    page = (await notify.client.get(PATH, params={"limit": 1}, headers=notify.admin)).json()
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    one = await notify.client.get(f"{PATH}/{sari['id']}", headers=notify.admin)
    assert one.status_code == 200 and one.json() == sari

    assert (await notify.client.delete(f"{PATH}/{again['id']}", headers=notify.admin)).status_code == 204
    for method in ("GET", "DELETE"):
        r = await notify.client.request(method, f"{PATH}/{again['id']}", headers=notify.admin)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"

    async with notify.runtime.db.session() as session:
        trail = (await session.execute(select(KIT.audit_log).order_by(KIT.audit_log.c.id))).all()
    assert [(e.action, e.target_type, e.target_id) for e in trail] == [
        ("recipient.add", "recipient", sari["id"]),
        ("recipient.add", "recipient", again["id"]),
        ("recipient.remove", "recipient", again["id"]),
    ]
    assert [json.loads(e.details)["scope"] for e in trail] == ["level:3", "level:1", "level:1"]
    assert all(e.actor.startswith("admin:") for e in trail)
    assert "example" not in str(trail), "the trail never holds an address"


async def test_liaison_officers_are_the_directorys(notify: Notify) -> None:
    budi = {"name": "Budi", "email": " Budi@Lapas.Example "}
    ops = {"name": "Meja Layanan", "email": "ops@lapas.example", "language": "en"}
    unusable = {"name": "Tanpa surel", "email": "not an address"}
    officers = await notify.node("LAPAS-SBY", budi, ops, unusable, timezone="Asia/Makassar")
    assert sorted(officers) == ["budi@lapas.example", "ops@lapas.example"], "only addresses notify can write to"
    first = officers["budi@lapas.example"]
    assert (first["role"], first["node_code"], first["level"], first["name"]) == ("liaison", "LAPAS-SBY", None, "Budi")
    assert (first["timezone"], first["language"], first["is_system"]) == ("Asia/Makassar", "id", False)
    assert officers["ops@lapas.example"]["language"] == "en"
    assert await notify.node("KANWIL-JATIM") == {}

    # The node changes: one officer renamed, one gone, the timezone moved; the one who stays keeps their id.
    renamed = await notify.node("LAPAS-SBY", {**budi, "name": "Budi Santoso"}, timezone="Asia/Jakarta")
    assert list(renamed) == ["budi@lapas.example"]
    now = renamed["budi@lapas.example"]
    assert now["id"] == first["id"] and now["name"] == "Budi Santoso" and now["timezone"] == "Asia/Jakarta"

    # An older event (a dead letter replayed) brings nothing back.
    stale = new_event(notify.node_event("LAPAS-SBY", budi, ops), source="routing")
    stale = stale.model_copy(update={"occurred_at": datetime.now(UTC) - timedelta(hours=1)})
    await notify.redeliver(stale, "replayed")
    await notify.wait_drained()
    assert list(await notify.liaisons("LAPAS-SBY")) == ["budi@lapas.example"]

    # The directory owns them: notify will not remove one, nor record them in its own trail.
    r = await notify.client.delete(f"{PATH}/{now['id']}", headers=notify.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "recipient_from_directory"
    assert "liaison_officers" in r.json()["error"]["message"]
    assert await notify.node("LAPAS-SBY") == {}, "a node whose list is emptied has no officers left"
    async with notify.runtime.db.session() as session:
        assert (await session.execute(select(KIT.audit_log))).all() == []


async def test_escalation_notices_go_to_the_node_concerned_and_the_rungs_coordinators(
    notify_smtp: Notify, smtp_server: SmtpServer
) -> None:
    svc = notify_smtp
    budi = (await svc.node("LAPAS-SBY", {"name": "Budi", "email": "budi@lapas.example"}))["budi@lapas.example"]
    kanwil = await svc.node("KANWIL-JATIM", {"name": "Sari", "email": "sari@kanwil.example", "language": "en"})
    sari = kanwil["sari@kanwil.example"]
    watcher = await svc.recipient(role="coordinator", level=1, email="pantau@hub.example")
    await svc.recipient(role="coordinator", level=1, email="budi@lapas.example")  # told once, as the liaison
    rina = await svc.recipient(role="coordinator", level=3, email="koordinator@hub.example", name="Rina")

    tid = new_tid()
    secrets = {"name": "Wulan Anonim", "email": "wulan.rahasia@example.test", "phone": "+62 813 5555 0101"}
    await svc.contact(
        tid, name=secrets["name"], email_address=secrets["email"], phone=secrets["phone"], is_anonymous=True
    )
    for level, target_node in ((1, "LAPAS-SBY"), (2, "KANWIL-JATIM"), (3, None), (4, None)):
        await svc.publish_twice(svc.escalation_event(tid, level, "LAPAS-SBY", target_node))

    async def settled() -> list[dict[str, Any]] | None:
        found = [d for d in await svc.deliveries(tid) if d["template"] == "escalation"]
        return found if sorted(d["status"] for d in found) == ["sent"] * 4 + ["skipped"] else None

    escalations = await eventually(settled)
    log = [d for d in escalations if d["status"] == "sent"]
    assert sorted((d["recipient_kind"], d["recipient_id"]) for d in log) == sorted(
        [
            ("liaison", budi["id"]),
            ("coordinator", watcher["id"]),
            ("liaison", sari["id"]),
            ("coordinator", rina["id"]),
        ]
    )
    [nobody] = [d for d in escalations if d["status"] == "skipped"]
    assert (nobody["recipient_kind"], nobody["reason"], nobody["recipient_id"]) == ("coordinator", "no_recipients", "")

    def inbox(address: str) -> list[Any]:
        return [m for rcpts, m in smtp_server.inbox.received if rcpts == [address]]

    await eventually(lambda: _n(smtp_server, 4 + 1))  # four notices and the reporter's confirmation
    [to_budi], [to_watcher], [to_sari], [to_rina] = (
        inbox(a) for a in ("budi@lapas.example", "pantau@hub.example", "sari@kanwil.example", "koordinator@hub.example")
    )
    # A subject that fills a line is folded right after "Subject:"; the parser keeps the fold's space.
    assert to_budi["Subject"].strip() == f"[Simpul] Eskalasi tingkat 1: laporan {tid} melewati batas waktu"
    assert body_of(to_budi).startswith("Yth. Budi,")
    assert "sebagai pejabat penghubung LAPAS-SBY." in body_of(to_budi)
    assert f"http://127.0.0.1:8000/api/v1/agency/complaints/{tid}" in body_of(to_budi)
    assert body_of(to_watcher).startswith("Yth. Bapak/Ibu,") and "sebagai koordinator tingkat 1." in body_of(to_watcher)
    assert to_sari["Subject"].strip() == f"[Simpul] Escalation level 2: report {tid} is past its deadline"
    assert body_of(to_sari).startswith("Dear Sari,") and "to the parent node (KANWIL-JATIM)" in body_of(to_sari)
    assert "sebagai koordinator tingkat 3." in body_of(to_rina)
    assert f"http://127.0.0.1:8000/api/v1/hub/complaints/{tid}" in body_of(to_rina)

    notices = " ".join(body_of(m) + str(m["To"]) for m in (to_budi, to_watcher, to_sari, to_rina))
    for value in secrets.values():
        assert value not in notices, "officers are never told who the reporter is or how to reach them"
    mine = await svc.deliveries(tid, recipient_kind="reporter")
    assert [d["template"] for d in mine] == ["confirmation"], "the reporter's contact serves only their own messages"
    [confirmation] = inbox(secrets["email"])
    assert body_of(confirmation).startswith("Yth. Pelapor,"), "anonymous: not greeted by name"


async def test_a_rung_routing_sent_to_the_hub_goes_to_the_hubs_coordinators(
    notify_smtp: Notify, smtp_server: SmtpServer
) -> None:
    """A whistleblowing report's parent rung whose node is the accused or above it comes as `coordinators` at level
    2 (routing_svc/cases/wbs.py): the hub's coordinators (level 3) are told, nobody of that node."""
    svc = notify_smtp
    await svc.node("KEMENKUMHAM", {"name": "Sari", "email": "sari@kemenkumham.example"})
    await svc.recipient(role="coordinator", level=2, email="induk@kemenkumham.example")
    rina = await svc.recipient(role="coordinator", level=3, email="koordinator@hub.example", language="en")
    tid = new_tid()
    event = svc.escalation_event(tid, 2, "ITJEN", None).model_copy(update={"target": EscalationTarget.coordinators})
    await svc.publish_twice(event)

    async def settled() -> list[dict[str, Any]] | None:
        found = await svc.deliveries(tid)
        return found if found and all(d["status"] in ("sent", "skipped") for d in found) else None

    [sent] = await eventually(settled)
    assert (sent["recipient_kind"], sent["recipient_id"]) == ("coordinator", rina["id"])
    await eventually(lambda: _n(smtp_server, 1))
    [(to, notice)] = smtp_server.inbox.received
    assert to == ["koordinator@hub.example"]
    body = body_of(notice)
    assert "escalation level 2: to the hub's complaint coordinators, in place of the parent node" in body
    assert "as a coordinator at level 3." in body and "KEMENKUMHAM" not in body


async def _n(smtp_server: SmtpServer, n: int) -> bool:
    return len(smtp_server.inbox.received) == n
