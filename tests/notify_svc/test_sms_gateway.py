"""SMS through a real HTTP gateway receiver (uvicorn on a loopback port): who gets SMS, the request the generic JSON
adapter makes, and what 2xx, 4xx, 5xx and a timeout do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from notify_svc.models import Notification
from shared.domain import Status
from tests.notify_svc.conftest import (
    GATEWAY_AUTH,
    SmsGateway,
    gateway_settings,
    new_tid,
    start_notify,
)
from tests.support.apps import eventually

RECEIPT = "T4WV-QZ7K-M2PA-88XR-LL3N-C9DE-5HUB-YJ6F"


async def test_a_reporter_with_only_a_phone_gets_sms(
    database: Any, natsd: Any, tmp_path: Path, sms_gateway: SmsGateway
) -> None:
    settings = {**gateway_settings(sms_gateway), "sms_sender_id": "SIMPUL"}
    async with start_notify(database, natsd, tmp_path, **settings) as svc:
        tid = new_tid()
        await svc.contact(tid, email_address=None, phone="0812 3456 7890", language="en", receipt=RECEIPT)
        await svc.status(tid, Status.postponed, 2, previous=Status.submitted, reason="Where did it happen?")
        log = await svc.wait_deliveries(tid, 2, status="sent", channel="sms", attempts=1)
        by_template = {d["template"]: d for d in log}

        assert len(sms_gateway.calls) == 2
        for call in sms_gateway.calls:
            assert call.headers["authorization"] == GATEWAY_AUTH
            assert call.headers["content-type"] == "application/json"
            key = call.headers["idempotency-key"]
            assert set(call.body) == {"to", "text", "reference", "from"}
            assert call.body["to"] == "+6281234567890" and call.body["from"] == "SIMPUL"
            assert call.body["reference"] == key and key in {d["id"] for d in log}
        texts = {c.body["reference"]: c.body["text"] for c in sms_gateway.calls}
        confirmation = texts[by_template["confirmation"]["id"]]
        postponed = texts[by_template["status_changed"]["id"]]
        assert confirmation.startswith(f"Simpul: your report was received, number {tid}. Receipt: {RECEIPT}")
        assert postponed == (
            f"Simpul: report {tid} is now On hold (Tunda). Please complete it within 10 working days. We need: "
            f"Where did it happen? http://127.0.0.1:8000/track/{tid}"
        )
        assert RECEIPT not in postponed, "the receipt goes in the confirmation only"

        async with svc.runtime.db.session() as session:
            ids = (await session.execute(select(Notification.message_id).where(Notification.tracking_id == tid))).all()
        assert sorted(str(i) for (i,) in ids) == sorted(f"gw-{d['id'][:8]}" for d in log), (
            "the gateway's own message id"
        )
        await svc.wait_deliveries(tid, 2, status="sent", channel="sms")

        both = new_tid()
        await svc.contact(both, email_address="dewi@example.test", phone="+62 811 222 333")
        await svc.status(both, Status.dispositioned, 2, previous=Status.submitted)
        await svc.wait_deliveries(both, 2, status="sent", channel="email")
        assert len(svc.mails_for(both)) == 2
        assert sms_gateway.texts_for(both) == [], "email and phone: email only, one channel per event"
        assert not (svc.settings.data_dir / "sms").exists(), "with a gateway, no SMS file is written"


async def test_gateway_timeouts_and_5xx_are_retried_and_4xx_is_final(
    database: Any, natsd: Any, tmp_path: Path, sms_gateway: SmsGateway
) -> None:
    sms_gateway.script = [0, 503]  # a request that outlasts the client's timeout, then a 503, then 200
    settings = {**gateway_settings(sms_gateway), "sms_timeout": 0.3}
    async with start_notify(database, natsd, tmp_path, **settings) as svc:
        tid = new_tid()
        await svc.contact(tid, email_address=None, phone="+62 812 7777 0000")
        [entry] = await svc.wait_deliveries(tid, 1, template="confirmation", status="sent")
        assert entry["attempts"] == 3 and entry["channel"] == "sms"
        assert "503" in entry["last_error"] and "+62" not in entry["last_error"] and "7777" not in entry["last_error"]

        async def all_answered() -> bool:
            return len(sms_gateway.calls) == 3

        await eventually(all_answered)
        assert {c.headers["idempotency-key"] for c in sms_gateway.calls} == {entry["id"]}
        assert sorted(c.answered for c in sms_gateway.calls) == [200, 200, 503]
        assert len(sms_gateway.texts_for(tid)) == 1, "the retry after a timeout carries the same key: one SMS"

        sms_gateway.script = [400]
        await svc.status(tid, Status.rejected, 2, previous=Status.submitted)
        [refused] = await svc.wait_deliveries(tid, 1, template="status_changed", status="failed")
        assert refused["attempts"] == 1 and refused["reason"] == "recipient_refused"
        assert "gateway answered 400" in refused["last_error"]
        assert "7777" not in refused["last_error"], "the gateway echoed the number: it is redacted"
