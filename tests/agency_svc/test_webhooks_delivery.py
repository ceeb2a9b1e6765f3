"""Webhook deliveries to real HTTP receivers on loopback ports, each verifying the signature with the documented
snippet: who gets what, retries and recovery, order per case, pull while an endpoint is down, a restart in the middle
of a retry, the 24-hour limit and redelivery, and two replicas sharing the work."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from agency_svc.app import create_app
from agency_svc.models import KIT, WebhookAttempt
from agency_svc.settings import AgencySettings
from services.ports import free_port
from shared.domain import Classification, Status
from shared.events.contracts import ReporterReplied
from tests.agency_svc.conftest import Agency, new_tid
from tests.agency_svc.webhook_peers import (
    FAST_RETRIES,
    LOOPBACK_ALLOWED,
    Receiver,
    deliveries,
    receiver,
    register,
    wait_delivery,
    webhook_agency,
)
from tests.support.apps import eventually, publish, running_service, service_settings
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

SECRET = "whsec_receiver-shared-secret-42"
DISPOSITIONED, STATUS, REPLIED = "complaint.dispositioned", "complaint.status_changed", "reporter.replied"
ALL = (DISPOSITIONED, STATUS, REPLIED)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def metric(outcome: str) -> float:
    return REGISTRY.get_sample_value("simpul_webhook_deliveries_total", {"service": "agency", "outcome": outcome}) or 0


def seen(peer: Receiver, tracking_id: str) -> list[tuple[str, int]]:
    """(event type, answer) of every request the receiver got for the case, in arrival order."""
    return [(r.body["event_type"], r.answered) for r in peer.received if r.body["tracking_id"] == tracking_id]


async def reply(agency: Agency, tracking_id: str, message_id: str) -> None:
    await publish(
        agency.bus,
        ReporterReplied(
            tracking_id=tracking_id,
            message_id=message_id,
            content="Saya Siti Aminah, saya keberatan dengan jawabannya.",
            disputes_answer=True,
            sent_at=datetime.now(UTC),
        ),
    )


async def test_a_disposition_reaches_the_holder_and_each_ancestor_signed(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with (
        webhook_agency(database, natsd, tmp_path) as agency,
        receiver(SECRET) as upt,
        receiver(SECRET) as kemen,
        receiver(SECRET) as other,
    ):
        peers = {"UPT": upt, "KEMEN": kemen, "OTHER": other}
        hooks = {
            who: await register(agency, who, peer.url, DISPOSITIONED, secret=SECRET) for who, peer in peers.items()
        }
        tid = new_tid()
        await agency.dispose(tid, "UPT", 1)
        logged = {
            who: await wait_delivery(agency, who, hooks[who]["id"], status="delivered") for who in ("UPT", "KEMEN")
        }

        assert await deliveries(agency, "OTHER", hooks["OTHER"]["id"]) == [] and other.received == []
        assert tid in await agency.inbox("UPT")
        got = {who: peers[who].received for who in ("UPT", "KEMEN")}
        assert all(len(r) == 1 and r[0].verified and r[0].answered == 200 for r in got.values())
        event_ids = {r[0].headers["simpul-event-id"] for r in got.values()}
        assert len(event_ids) == 1, "one event, the same id on every endpoint"
        for who, (request,) in got.items():
            assert request.headers["simpul-event-type"] == DISPOSITIONED
            assert request.headers["simpul-delivery-id"] == str(logged[who]["delivery_id"])
            assert request.headers["content-type"] == "application/json"
            body = request.body
            assert body["event_id"] in event_ids and body["tracking_id"] == tid and body["agency_code"] == "UPT"
            assert body["data"]["agency_code"] == "UPT" and body["data"]["status"] == "dispositioned"
            assert body["data"]["classification"] == "pengaduan" and body["data"]["case_version"] == 1
            for private in (b"Siti", b"Aminah", b"Petugas meminta uang", b"dipungut biaya"):
                assert private not in request.raw, "the body names what changed, never the reporter or the report"
        node_log = await agency.client.get("/api/v1/agency/webhooks/deliveries", headers=agency.h("UPT"))
        assert node_log.status_code == 200 and [
            (d["webhook_id"], d["tracking_id"]) for d in node_log.json()["items"]
        ] == [(hooks["UPT"]["id"], tid)]
        nothing = await agency.client.get("/api/v1/agency/webhooks/deliveries", headers=agency.h("OTHER"))
        assert nothing.status_code == 200 and nothing.json() == {"items": [], "next_offset": None}
        for entry in logged.values():
            assert entry["webhook_id"] in {hooks["UPT"]["id"], hooks["KEMEN"]["id"]}
            assert entry["attempts"] == 1 and entry["last_status_code"] == 200 and entry["last_error"] is None
            assert entry["finished_at"] is not None and entry["next_attempt_at"] is None
            (attempt,) = entry["attempt_log"]
            assert attempt["status_code"] == 200 and attempt["error"] is None and attempt["duration_ms"] >= 0


async def test_each_endpoint_takes_its_event_types_and_a_wbs_report_goes_to_its_holder_alone(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with (
        webhook_agency(database, natsd, tmp_path) as agency,
        receiver(SECRET) as upt,
        receiver(SECRET) as kanwil,
    ):
        await register(agency, "UPT", upt.url, STATUS, REPLIED, secret=SECRET)
        await register(agency, "KANWIL", kanwil.url, *ALL, secret=SECRET)
        wbs, case = new_tid(), new_tid()
        await agency.dispose(wbs, "UPT", 1, classification=Classification.wbs)
        await agency.status(wbs, Status.in_progress, 2, agency_code="UPT")
        await agency.dispose(case, "UPT", 1)
        await agency.status(case, Status.in_progress, 2, agency_code="UPT")
        await agency.status(case, Status.in_progress, 2, agency_code="UPT")  # a repeat: applied once, pushed once
        await reply(agency, case, "m-1")
        await reply(agency, case, "m-1")  # the same message again: stored once, pushed once
        await agency.status(case, Status.answered, 3, agency_code="UPT")  # the last event: after it, nothing more

        async def all_in() -> bool:
            done = [(r.body["tracking_id"], r.body["data"].get("status")) for r in upt.accepted + kanwil.accepted]
            return done.count((case, "answered")) == 2

        await eventually(all_in)
        assert seen(upt, wbs) == [(STATUS, 200)]
        assert seen(upt, case) == [(STATUS, 200), (REPLIED, 200), (STATUS, 200)]
        assert seen(kanwil, wbs) == [], "a whistleblowing report is for its holder alone"
        assert seen(kanwil, case) == [(DISPOSITIONED, 200), (STATUS, 200), (REPLIED, 200), (STATUS, 200)]
        message = next(r for r in upt.received if r.body["event_type"] == REPLIED)
        assert message.body["data"]["message_id"] == "m-1" and message.body["data"]["disputes_answer"] is True
        assert b"keberatan" not in message.raw and b"Siti" not in message.raw
        statuses = [
            r.body["data"] for r in upt.received if r.body["event_type"] == STATUS and r.body["tracking_id"] == case
        ]
        assert [(s["status"], s["status_label"], s["case_version"]) for s in statuses] == [
            ("in_progress", "Proses", 2),
            ("answered", "Ditindaklanjuti", 3),
        ]
        assert all(r.verified for r in upt.received + kanwil.received)


async def test_a_receiver_that_fails_its_first_attempts_gets_the_delivery_when_it_recovers(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with webhook_agency(database, natsd, tmp_path) as agency, receiver(SECRET) as peer:
        peer.answers_in_turn(503, 302, 500)
        hook = await register(agency, "UPT", peer.url, *ALL, secret=SECRET)
        retries, delivered = metric("retry"), metric("delivered")
        tid = new_tid()
        await agency.dispose(tid, "UPT", 1)
        entry = await wait_delivery(agency, "UPT", hook["id"], status="delivered")

        assert entry["attempts"] == 4
        assert [(a["status_code"], a["error"]) for a in entry["attempt_log"]] == [
            (503, "HTTP 503"),
            (302, "HTTP 302"),  # a redirect is not followed
            (500, "HTTP 500"),
            (200, None),
        ]
        assert [r.answered for r in peer.received] == [503, 302, 500, 200]
        assert all(r.verified for r in peer.received), "every attempt is signed afresh and verifies"
        assert len({(r.headers["simpul-event-id"], r.headers["simpul-delivery-id"]) for r in peer.received}) == 1
        assert metric("retry") - retries == 3 and metric("delivered") - delivered == 1


async def test_a_cases_deliveries_wait_behind_its_failing_one_while_other_cases_go(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with webhook_agency(database, natsd, tmp_path) as agency, receiver(SECRET) as peer:
        blocked, free = new_tid(), new_tid()
        gate = {"open": False}
        peer.answer = lambda body: 200 if gate["open"] or body["tracking_id"] != blocked else 503
        hook = await register(agency, "UPT", peer.url, *ALL, secret=SECRET)
        await agency.dispose(blocked, "UPT", 1)
        await agency.status(blocked, Status.in_progress, 2, agency_code="UPT")
        await reply(agency, blocked, "m-1")
        await agency.dispose(free, "UPT", 1)

        async def held_back() -> list[dict[str, Any]] | None:
            items = await deliveries(agency, "UPT", hook["id"], tracking_id=blocked)
            return items if len(items) == 3 and items[-1]["attempts"] >= 2 else None

        first_then_later = list(reversed(await eventually(held_back)))
        assert [d["event_type"] for d in first_then_later] == list(ALL)
        assert [(d["status"], d["attempts"]) for d in first_then_later[1:]] == [("pending", 0), ("pending", 0)]
        assert {e for e, _ in seen(peer, blocked)} == {DISPOSITIONED}, "nothing later of the case went out"
        assert (await wait_delivery_of(agency, hook["id"], free))["status"] == "delivered", "another case is not held"

        gate["open"] = True

        async def through() -> bool:
            items = await deliveries(agency, "UPT", hook["id"], tracking_id=blocked)
            return all(d["status"] == "delivered" for d in items)

        await eventually(through)
        order = seen(peer, blocked)
        first_ok = order.index((DISPOSITIONED, 200))
        assert all(event == DISPOSITIONED and answer == 503 for event, answer in order[:first_ok])
        assert order[first_ok:] == [(DISPOSITIONED, 200), (STATUS, 200), (REPLIED, 200)]


async def wait_delivery_of(agency: Agency, webhook_id: str, tracking_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        items = await deliveries(agency, "UPT", webhook_id, tracking_id=tracking_id, status="delivered")
        return items[0] if items else None

    return await eventually(probe)


async def test_the_inbox_is_read_by_pull_while_the_endpoint_is_down(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    port = free_port()
    async with webhook_agency(database, natsd, tmp_path) as agency:
        hook = await register(agency, "UPT", f"http://127.0.0.1:{port}/hooks/simpul", *ALL, secret=SECRET)
        tid = new_tid()
        await agency.dispose(tid, "UPT", 1)

        async def failing() -> dict[str, Any] | None:
            items = await deliveries(agency, "UPT", hook["id"])
            return items[0] if items and items[0]["attempts"] >= 2 else None

        down = await eventually(failing)
        assert down["status"] == "pending" and down["last_status_code"] is None and "Connect" in down["last_error"]
        assert all(a["status_code"] is None and a["error"] for a in down["attempt_log"])
        assert await agency.inbox("UPT") == [tid]
        case = await agency.case_json("UPT", tid)
        assert case["status"] == "dispositioned" and case["reporter_name"] == "Siti Aminah"

        async with receiver(SECRET, port=port) as peer:  # the endpoint comes back on its address
            await wait_delivery(agency, "UPT", hook["id"], status="delivered")
        assert len(peer.received) == 1 and peer.received[0].verified and peer.received[0].body["tracking_id"] == tid


async def test_a_retry_waiting_when_the_service_restarts_is_delivered_by_the_next_run(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    clock = ManualClock()  # stands still: the retry comes only when the test moves it past its time
    slow: dict[str, Any] = {"webhook_retry_base_seconds": 600.0, "webhook_retry_max_seconds": 3600.0}
    tid = new_tid()
    async with receiver(SECRET) as peer:
        peer.answers_in_turn(503)
        async with webhook_agency(database, natsd, tmp_path, clock=clock, **slow) as first:
            hook = await register(first, "UPT", peer.url, *ALL, secret=SECRET)
            await first.dispose(tid, "UPT", 1)
            waiting = await wait_delivery(first, "UPT", hook["id"], status="pending", attempts=1)
            keys = first.keys
        assert at(waiting["next_attempt_at"]) > clock.now()

        async with webhook_agency(database, natsd, tmp_path, clock=clock, keys=keys, **slow) as second:
            assert (await wait_delivery(second, "UPT", hook["id"]))["attempts"] == 1, "nothing was sent meanwhile"
            clock.advance(timedelta(seconds=601))
            done = await wait_delivery(second, "UPT", hook["id"], status="delivered")

    assert done["delivery_id"] == waiting["delivery_id"] and done["attempts"] == 2
    assert [a["status_code"] for a in done["attempt_log"]] == [503, 200]
    assert [r.answered for r in peer.received] == [503, 200] and all(r.verified for r in peer.received)
    assert len({r.headers["simpul-event-id"] for r in peer.received}) == 1


async def test_retries_last_24_hours_then_fail_and_a_delivery_can_be_sent_again_by_hand(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    clock = ManualClock()
    defaults: dict[str, Any] = {"webhook_retry_base_seconds": 10.0, "webhook_retry_max_seconds": 3600.0}  # as shipped
    async with (
        webhook_agency(database, natsd, tmp_path, clock=clock, **defaults) as agency,
        receiver(SECRET) as peer,
    ):
        peer.answer = lambda _: 500
        hook = await register(agency, "UPT", peer.url, *ALL, secret=SECRET)
        failed_before = metric("failed")
        await agency.dispose(new_tid(), "UPT", 1)
        first = await wait_delivery(agency, "UPT", hook["id"], attempts=1)
        made = at(first["created_at"])
        assert at(first["give_up_at"]) - made == timedelta(hours=24)

        clock.set(made + timedelta(hours=24) - timedelta(minutes=1))
        assert (await wait_delivery(agency, "UPT", hook["id"], attempts=2))["status"] == "pending"
        clock.set(made + timedelta(hours=24, seconds=1))
        failed = await wait_delivery(agency, "UPT", hook["id"], attempts=3)
        assert failed["status"] == "failed" and failed["next_attempt_at"] is None
        assert at(failed["finished_at"]) == clock.now() and metric("failed") - failed_before == 1

        peer.answer = lambda _: 200
        path = f"/api/v1/agency/webhooks/{hook['id']}/deliveries/{failed['delivery_id']}/redeliver"
        assert (await agency.client.post(path, headers=agency.h("KANWIL"))).status_code == 404
        r = await agency.client.post(path, headers=agency.h("UPT"))
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "pending" and at(r.json()["give_up_at"]) == clock.now() + timedelta(hours=24)
        await wait_delivery(agency, "UPT", hook["id"], status="delivered", attempts=4)

        peer.hold = asyncio.Event()
        r = await agency.client.post(path, headers=agency.h("UPT"))  # a delivered one goes again too
        assert r.status_code == 202, r.text

        async def in_flight() -> bool:
            return peer.arrived == 5

        await eventually(in_flight)
        r = await agency.client.post(path, headers=agency.h("UPT"))
        assert r.status_code == 409 and r.json()["error"]["code"] == "delivery_in_flight", r.text
        peer.hold.set()
        again = await wait_delivery(agency, "UPT", hook["id"], status="delivered", attempts=5)

        clock.advance(timedelta(days=30, hours=1))  # past the log's retention: finished deliveries are purged

        async def purged() -> bool:
            return await deliveries(agency, "UPT", hook["id"]) == []

        await eventually(purged)
        log = KIT.audit_log
        async with agency.runtime.db.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(WebhookAttempt))).scalar_one() == 0
            trail = (await conn.execute(select(log.c.action, log.c.details).order_by(log.c.seq))).all()
    redelivered = [json.loads(d) for a, d in trail if a == "agency.webhook_redeliver"]
    assert [(d["delivery_id"], d["previous_status"]) for d in redelivered] == [
        (failed["delivery_id"], "failed"),
        (failed["delivery_id"], "delivered"),
    ], "each redelivery is in the audit trail; the refused one is not"

    assert [a["status_code"] for a in again["attempt_log"]] == [500, 500, 500, 200, 200]
    assert len(peer.received) == 5 and all(r.verified for r in peer.received)
    assert len({(r.headers["simpul-event-id"], r.headers["simpul-delivery-id"]) for r in peer.received}) == 1


async def test_two_replicas_send_each_delivery_once_and_in_order(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with webhook_agency(database, natsd, tmp_path) as one, receiver(SECRET) as peer:
        hook = await register(one, "UPT", peer.url, *ALL, secret=SECRET)
        replica = {**FAST_RETRIES, **LOOPBACK_ALLOWED}
        other = service_settings(AgencySettings, database, natsd, tmp_path / "replica", **replica)
        async with running_service("agency_svc", create_app, other):
            cases = [new_tid() for _ in range(12)]
            for tid in cases:
                await one.dispose(tid, "UPT", 1)
            for tid in cases:
                await one.status(tid, Status.in_progress, 2, agency_code="UPT")

            async def all_delivered() -> list[dict[str, Any]] | None:
                items = await deliveries(one, "UPT", hook["id"], limit=200)
                done = len(items) == 2 * len(cases) and all(d["status"] == "delivered" for d in items)
                return items if done else None

            items = await eventually(all_delivered, timeout=20)

    assert all(d["attempts"] == 1 for d in items)
    sent = Counter(r.headers["simpul-delivery-id"] for r in peer.received)
    assert len(sent) == 2 * len(cases) and set(sent.values()) == {1}, "no delivery went out twice"
    for tid in cases:
        assert seen(peer, tid) == [(DISPOSITIONED, 200), (STATUS, 200)]
