"""Exactly once per event and recipient, across retries and a restart: notify_svc is stopped while its messages wait for
a retry (the SMTP server and the SMS gateway refused the first attempt), then a new process takes over; each reporter
gets each message once, and an event redelivered after the restart makes nothing new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.domain import Status
from tests.notify_svc.conftest import (
    SmsGateway,
    SmtpServer,
    body_of,
    gateway_settings,
    new_tid,
    start_notify,
)
from tests.support.clock import ManualClock


async def test_a_restart_in_the_middle_of_a_retry_sends_each_message_once(
    database: Any, natsd: Any, tmp_path: Path, smtp_server: SmtpServer, sms_gateway: SmsGateway
) -> None:
    clock = ManualClock(datetime(2026, 3, 10, 3, 0, tzinfo=UTC))  # a Tuesday, 10:00 WIB
    settings = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_server.port,
        **gateway_settings(sms_gateway),
        "retry_base_seconds": 60.0,
        "retry_max_seconds": 120.0,
    }
    smtp_server.inbox.refuse_first = 2
    sms_gateway.script = [503, 503]
    by_mail, by_sms = new_tid(), new_tid()

    async with start_notify(database, natsd, tmp_path, clock=clock, **settings) as first:
        await first.contact(by_mail)
        await first.contact(by_sms, email_address=None)
        replayed = await first.publish_twice(
            first.status_event(by_mail, Status.dispositioned, 2, previous=Status.submitted)
        )
        await first.status(by_sms, Status.dispositioned, 2, previous=Status.submitted)
        for tid in (by_mail, by_sms):
            waiting = await first.wait_deliveries(tid, 2, status="pending", attempts=1)
            assert all(d["last_error"] and d["next_attempt_at"] > clock.now().isoformat() for d in waiting)
        assert smtp_server.inbox.received == [] and sms_gateway.delivered == {}
    # Stopped with every message waiting for its retry. The same event arrives again while nobody listens.
    async with start_notify(database, natsd, tmp_path, clock=clock, **settings) as second:
        await second.redeliver(replayed, "after-restart")
        await second.wait_drained()
        clock.advance(timedelta(minutes=3))
        mails = await second.wait_deliveries(by_mail, 2, status="sent", attempts=2)
        texts = await second.wait_deliveries(by_sms, 2, status="sent", attempts=2)

    received = smtp_server.inbox.for_tid(by_mail)
    assert len(received) == 2 and len(smtp_server.inbox.received) == 2
    assert {m["Message-ID"] for m in received} == {f"<{d['id']}@simpul.localhost>" for d in mails}
    assert sum("kini: Terverifikasi" in body_of(m) for m in received) == 1
    assert len(sms_gateway.texts_for(by_sms)) == 2
    assert sorted(c.answered for c in sms_gateway.calls) == [200, 200, 503, 503]
    assert {c.headers["idempotency-key"] for c in sms_gateway.calls} == {d["id"] for d in texts}
