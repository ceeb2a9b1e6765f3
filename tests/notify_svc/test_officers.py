"""Liaison officers and coordinators: registered by admins under /api/v1/notify/recipients, told of escalations (the
node concerned and the coordinators at the rung's level), never told anything of the reporter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from notify_svc.models import KIT
from shared.domain import Role
from tests.notify_svc.conftest import Notify, SmtpServer, body_of, new_tid
from tests.support.apps import auth, eventually, publish

PATH = "/api/v1/notify/recipients"


async def test_recipients_are_managed_by_admins(notify: Notify) -> None:
    coordinator = notify.runtime.keystore.new_key(Role.coordinator)
    await publish(notify.bus, coordinator.event, source="routing")

    async def refused_for_coordinator() -> bool:
        return (await notify.client.get(PATH, headers=auth(coordinator.key))).status_code == 403

    await eventually(refused_for_coordinator)
    r = await notify.client.post(PATH, json={"role": "liaison", "node_code": "X", "email": "a@b.example"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    r = await notify.client.post(
        PATH, json={"role": "liaison", "node_code": "X", "email": "a@b.example"}, headers=auth(coordinator.key)
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

    budi = await notify.recipient(
        role="liaison", node_code="LAPAS-SBY", email=" Budi@Lapas.Example ", name="Budi", timezone="WITA"
    )
    assert budi["email"] == "budi@lapas.example" and budi["timezone"] == "Asia/Makassar"
    assert budi["language"] == "id" and budi["is_system"] is False and budi["level"] is None
    sari = await notify.recipient(role="coordinator", level=3, email="sari@hub.example", language="en")
    again = await notify.recipient(role="liaison", node_code="KANWIL-JATIM", email="budi@lapas.example")
    assert again["id"] != budi["id"], "the same address may serve several nodes"

    r = await notify.client.post(
        PATH, json={"role": "liaison", "node_code": "LAPAS-SBY", "email": "budi@lapas.example"}, headers=notify.admin
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "recipient_exists"
    invalid = (
        {"role": "liaison", "email": "x@y.example"},
        {"role": "liaison", "node_code": "A", "level": 1, "email": "x@y.example"},
        {"role": "coordinator", "email": "x@y.example"},
        {"role": "coordinator", "level": 5, "email": "x@y.example"},
        {"role": "coordinator", "level": 3, "node_code": "A", "email": "x@y.example"},
        {"role": "liaison", "node_code": "A", "email": "not an address"},
        {"role": "liaison", "node_code": "A", "email": "x@y.example", "timezone": "Europe/Paris"},
        {"role": "liaison", "node_code": "A.B", "email": "x@y.example"},
        {"role": "reporter", "email": "x@y.example"},
        {"role": "liaison", "node_code": "A", "email": "x@y.example", "phone": "+62811"},
    )
    for body in invalid:
        r = await notify.client.post(PATH, json=body, headers=notify.admin)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", body

    listed = (await notify.client.get(PATH, params={"node_code": "LAPAS-SBY"}, headers=notify.admin)).json()
    assert [i["id"] for i in listed["items"]] == [budi["id"]] and listed["next_offset"] is None
    page = (await notify.client.get(PATH, params={"limit": 2}, headers=notify.admin)).json()
    assert len(page["items"]) == 2 and page["next_offset"] == 2
    coordinators = (await notify.client.get(PATH, params={"role": "coordinator"}, headers=notify.admin)).json()
    assert [i["id"] for i in coordinators["items"]] == [sari["id"]]
    one = await notify.client.get(f"{PATH}/{sari['id']}", headers=notify.admin)
    assert one.status_code == 200 and one.json() == sari

    assert (await notify.client.delete(f"{PATH}/{again['id']}", headers=notify.admin)).status_code == 204
    for method in ("GET", "DELETE"):
        r = await notify.client.request(method, f"{PATH}/{again['id']}", headers=notify.admin)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"

    async with notify.runtime.db.session() as session:
        trail = (await session.execute(select(KIT.audit_log).order_by(KIT.audit_log.c.id))).all()
    assert [(e.action, e.target_id) for e in trail] == [
        ("recipient.add", "node:LAPAS-SBY"),
        ("recipient.add", "level:3"),
        ("recipient.add", "node:KANWIL-JATIM"),
        ("recipient.remove", "node:KANWIL-JATIM"),
    ]
    assert all(e.actor.startswith("admin:") for e in trail)
    assert "example" not in str(trail), "the trail never holds an address"


async def test_escalation_notices_go_to_the_node_concerned_and_the_rungs_coordinators(
    notify_smtp: Notify, smtp_server: SmtpServer
) -> None:
    svc = notify_smtp
    budi = await svc.recipient(role="liaison", node_code="LAPAS-SBY", email="budi@lapas.example", name="Budi")
    sari = await svc.recipient(
        role="liaison", node_code="KANWIL-JATIM", email="sari@kanwil.example", name="Sari", language="en"
    )
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


async def _n(smtp_server: SmtpServer, n: int) -> bool:
    return len(smtp_server.inbox.received) == n
