"""Delivery through a real SMTP server (aiosmtpd): language, content, retries after refusals, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.domain import STATUS_LABELS, Status
from shared.reply_address import REPLY_ABOVE, case_of, reply_address
from tests.notify_svc.conftest import (
    Notify,
    SmtpServer,
    body_of,
    new_tid,
    start_notify,
)
from tests.support.apps import eventually


async def test_status_and_followup_mails_in_indonesian(notify_smtp: Notify, smtp_server: SmtpServer) -> None:
    tid = new_tid()
    await notify_smtp.contact(tid)
    await notify_smtp.status(tid, Status.in_progress, 3, previous=Status.dispositioned)
    await notify_smtp.followup(tid, "Petugas yang meminta uang telah diperiksa.", is_final=True)

    msgs = await eventually(lambda: _n(smtp_server, tid, 3))
    by_subject = {m["Subject"]: m for m in msgs}
    status_msg = next(m for s, m in by_subject.items() if "Proses" in s)
    follow_msg = next(m for s, m in by_subject.items() if "tindak lanjut" in s)
    assert f"[Simpul] Laporan {tid} telah diterima" in by_subject, "the confirmation of the submission"
    for m in msgs:
        assert m["To"] == "siti.aminah@example.test"
        assert m["From"] == "Simpul <no-reply@simpul.localhost>"
        assert m["Date"] is not None
        assert m["Content-Language"] == "id"
        assert m["X-Loop"] == "no-reply@simpul.localhost", "the email door knows the hub's own mail by it"
        assert m["Reply-To"] is None, "no reply address is configured"
        assert "mohon tidak membalas" in body_of(m)
    # RFC 3834: the confirmation answers the submission; the rest are generated. Responders answer neither.
    assert {m["Subject"]: m["Auto-Submitted"] for m in msgs} == {
        f"[Simpul] Laporan {tid} telah diterima": "auto-replied",
        status_msg["Subject"]: "auto-generated",
        follow_msg["Subject"]: "auto-generated",
    }
    assert all(rcpts == ["siti.aminah@example.test"] for rcpts, _ in smtp_server.inbox.received)

    assert status_msg["Subject"] == f"[Simpul] Laporan {tid}: {STATUS_LABELS[Status.in_progress]}"
    body = body_of(status_msg)
    assert "Yth. Siti Aminah" in body
    assert f"Status laporan Anda dengan nomor pelacakan {tid} kini: Proses." in body
    assert f"http://127.0.0.1:8000/track/{tid}" in body
    assert "+62 812" not in body, "the phone number has no business in the mail"

    follow_body = body_of(follow_msg)
    assert "Lapas Kelas I Surabaya telah memberikan tindak lanjut akhir" in follow_body
    assert "Petugas yang meminta uang telah diperiksa." in follow_body
    assert "Lapas Kelas I Surabaya" in follow_msg["Subject"]

    log = await notify_smtp.wait_deliveries(tid, 3, status="sent", attempts=1)
    assert {d["template"] for d in log} == {"confirmation", "status_changed", "followup_posted"}
    assert all(d["sent_at"] and d["recipient_kind"] == "reporter" and d["channel"] == "email" for d in log)
    # The Message-ID is derived from the notification id: a resend after a crash is recognisable.
    assert {m["Message-ID"] for m in msgs} == {f"<{d['id']}@simpul.localhost>" for d in log}

    assert all(d["attempts"] == 1 for d in log)
    assert all("siti" not in str(d).lower() for d in log)


async def test_english_when_the_reporter_chose_it(notify_smtp: Notify, smtp_server: SmtpServer) -> None:
    tid = new_tid()
    await notify_smtp.contact(tid, language="en", name="Budi")
    await notify_smtp.status(tid, Status.postponed, 2, previous=Status.submitted, reason="Please add the location.")
    await notify_smtp.followup(tid, "We are checking the visiting rules.", agency_name=None)

    msgs = await eventually(lambda: _n(smtp_server, tid, 3))
    status_msg = next(m for m in msgs if "On hold" in m["Subject"])
    confirmation = next(m for m in msgs if m["Subject"] == f"[Simpul] Report {tid} received")
    assert body_of(confirmation).startswith("Dear Budi,") and "Your receipt" not in body_of(confirmation)
    follow_msg = next(m for m in msgs if "follow-up" in m["Subject"])
    assert status_msg["Subject"] == f"[Simpul] Report {tid}: On hold (Tunda)"
    assert status_msg["Content-Language"] == "en"
    body = body_of(status_msg)
    assert body.startswith("Dear Budi,")
    assert f"The status of your report with tracking number {tid} is now: On hold (Tunda)." in body
    assert "What we need: Please add the location." in body
    assert "Please complete your report within 10 working days" in body
    assert "Status laporan" not in body
    # Without an agency name the mail names the agency by its code.
    assert "LAPAS-SBY has posted a follow-up" in body_of(follow_msg)


async def test_refused_then_accepted_shows_attempts_and_ends_sent(notify_smtp: Notify, smtp_server: SmtpServer) -> None:
    tid = new_tid()
    await notify_smtp.contact(tid)
    await eventually(lambda: _n(smtp_server, tid, 1))
    smtp_server.inbox.refuse_first = 2
    await notify_smtp.status(tid, Status.dispositioned, 2, previous=Status.submitted)

    [_, msg] = await eventually(lambda: _n(smtp_server, tid, 2))
    assert smtp_server.inbox.refused == 2
    [entry] = await notify_smtp.wait_deliveries(tid, 1, template="status_changed", status="sent")
    assert entry["attempts"] == 3
    assert "451" in entry["last_error"] and "try later" in entry["last_error"]
    assert "siti" not in entry["last_error"].lower()
    assert msg["Message-ID"] == f"<{entry['id']}@simpul.localhost>"
    sent = await notify_smtp.wait_deliveries(tid, 2, status="sent")
    assert sorted(d["attempts"] for d in sent) == [1, 3]


async def test_always_refused_fails_after_max_attempts(
    database: Any, natsd: Any, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    # The refusal echoes the address, as some servers do: it must not reach the delivery log.
    smtp_server.inbox.refuse_first = 10_000
    smtp_server.inbox.refusal = "452 mailbox of siti.aminah@example.test is over quota"
    async with start_notify(
        database, natsd, tmp_path, smtp_host="127.0.0.1", smtp_port=smtp_server.port, max_attempts=3
    ) as svc:
        tid = new_tid()
        await svc.contact(tid)
        await svc.status(tid, Status.completed, 6, previous=Status.answered)
        [entry] = await svc.wait_deliveries(tid, 1, template="status_changed", status="failed")
        assert entry["attempts"] == 3 and entry["reason"] == "max_attempts"
        assert entry["next_attempt_at"] is None and entry["sent_at"] is None
        assert "452" in entry["last_error"]
        assert "siti" not in entry["last_error"].lower() and "example.test" not in entry["last_error"]
        assert [d for d in await svc.deliveries(tid) if d["status"] == "sent"] == []
        assert smtp_server.inbox.for_tid(tid) == []


async def _n(smtp_server: SmtpServer, tid: str, n: int) -> list[Any] | None:
    found = smtp_server.inbox.for_tid(tid)
    return found if len(found) == n else None


async def test_reporter_mail_carries_the_case_reply_address(
    database: Any, natsd: Any, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    secret = "a-reply-secret-for-tests"
    async with start_notify(
        database,
        natsd,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        reply_address="lapor@hub.example",
        reply_secret=secret,
    ) as notify:
        tid = new_tid()
        await notify.contact(tid, receipt="RCPT-1234")
        await notify.status(tid, Status.in_progress, 3, previous=Status.dispositioned)
        msgs = await eventually(lambda: _n(smtp_server, tid, 2))
        # An anonymous reporter answers with the receipt (intake takes no message by sender for their case).
        hidden = new_tid()
        await notify.contact(hidden, is_anonymous=True)
        await notify.status(hidden, Status.in_progress, 3, previous=Status.dispositioned)
        hidden_msgs = await eventually(lambda: _n(smtp_server, hidden, 2))
    assert [m["Reply-To"] for m in hidden_msgs] == [None, None]
    assert all(REPLY_ABOVE not in body_of(m) for m in hidden_msgs)
    confirmation = next(m for m in msgs if "telah diterima" in m["Subject"])
    status_msg = next(m for m in msgs if m is not confirmation)
    reply_to = status_msg["Reply-To"]
    assert reply_to == reply_address("lapor@hub.example", tid, secret)
    assert reply_to.startswith(f"lapor+{tid}.") and reply_to.endswith("@hub.example")
    assert case_of(reply_to, secret) == tid
    assert case_of(reply_to, "another secret") is None
    body = body_of(status_msg)
    assert body.splitlines()[0] == REPLY_ABOVE, "the door keeps only what a reply writes above this line"
    assert "balas email ini" in body and "mohon tidak membalas" not in body

    # The confirmation carries the receipt (and the reporter's name): a reply would quote them into the case.
    body = body_of(confirmation)
    assert confirmation["Reply-To"] is None
    assert REPLY_ABOVE not in body and "mohon tidak membalas" in body
    assert tid in body and "RCPT-1234" in body and f"http://127.0.0.1:8000/track/{tid}" in body
