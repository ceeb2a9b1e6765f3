"""Delivery without SMTP or a gateway (.eml and SMS .json files), late contacts, reporters without email or without any
contact, exactly-once, privacy at rest."""

from __future__ import annotations

import email
import email.policy
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from notify_svc.contacts.service import open_contact
from notify_svc.models import Base, Contact, Notification, RecipientKind
from notify_svc.notifications.service import Addressee, Notice, enqueue, notification_id
from shared.crypto import Sealer, normalize_receipt
from shared.domain import Status
from shared.events import new_event
from tests.notify_svc.conftest import Notify, body_of, new_tid, start_notify
from tests.support.apps import TEST_ENCRYPTION_KEY


async def test_eml_files_in_the_mail_dir(notify: Notify) -> None:
    assert notify.mail_dir == notify.settings.data_dir / "mail"
    tid = new_tid()
    await notify.contact(tid)
    await notify.status(tid, Status.answered, 4, previous=Status.in_progress)
    [entry] = await notify.wait_deliveries(tid, 1, template="status_changed", status="sent")
    [confirmation] = await notify.wait_deliveries(tid, 1, template="confirmation", status="sent")

    path = notify.mail_dir / f"{entry['id']}.eml"
    assert path.exists(), "the file is named after the notification"
    raw = path.read_bytes()
    assert b"\r\n" in raw, "RFC 5322 lines end in CRLF"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["To"] == "siti.aminah@example.test"
    assert msg["From"] == "Simpul <no-reply@simpul.localhost>"
    assert msg["Subject"] == f"[Simpul] Laporan {tid}: Ditindaklanjuti"
    assert msg["Message-ID"] == f"<{entry['id']}@simpul.localhost>"
    assert msg["Date"] is not None and msg["Date"].datetime.tzinfo is not None
    body = body_of(msg)
    assert f"nomor pelacakan {tid} kini: Ditindaklanjuti" in body
    assert "Instansi telah memberikan tindak lanjut" in body
    assert f"/track/{tid}" in body and "/api/v1/" not in body
    names = sorted(p.name for p in notify.mail_dir.iterdir())
    assert names == sorted([path.name, f"{confirmation['id']}.eml"]), "no temporary file is left behind"


async def test_contact_arriving_after_the_status_event_still_mails(notify: Notify) -> None:
    tid = new_tid()
    await notify.status(tid, Status.dispositioned, 2, previous=Status.submitted)
    await notify.followup(tid, "Kami sedang memeriksa.")
    waiting = await notify.wait_deliveries(tid, 2, status="pending", reason="awaiting_contact")
    assert all(d["attempts"] == 0 for d in waiting), "waiting for a contact is not a failed attempt"
    assert notify.mails_for(tid) == []

    await notify.contact(tid)
    mails = await notify.wait_mails(tid, 3)
    assert {m["To"] for m in mails} == {"siti.aminah@example.test"}
    await notify.wait_deliveries(tid, 3, status="sent", attempts=1)


async def test_reporters_without_email_without_contact_or_unknown(database: Any, natsd: Any, tmp_path: Path) -> None:
    async with start_notify(database, natsd, tmp_path, contact_wait_seconds=0.5, contact_retry_seconds=0.05) as svc:
        phone_only = new_tid()
        await svc.contact(phone_only, email_address=None, phone="0812-3456-7890")
        await svc.status(phone_only, Status.dispositioned, 2, previous=Status.submitted)
        sent = await svc.wait_deliveries(phone_only, 2, status="sent", channel="sms")
        sms_dir = svc.settings.data_dir / "sms"
        written = {p.stem: json.loads(p.read_text()) for p in sms_dir.glob("*.json")}
        assert set(written) == {d["id"] for d in sent}, "without a gateway, each SMS is a file named after it"
        assert all(w["to"] == "+6281234567890" and w["reference"] in written for w in written.values())
        assert any(f"status laporan {phone_only} kini Terverifikasi" in w["text"] for w in written.values())

        nothing = new_tid()
        await svc.contact(nothing, email_address=None, phone=None)
        await svc.status(nothing, Status.dispositioned, 2, previous=Status.submitted)
        skipped = await svc.wait_deliveries(nothing, 2, status="skipped", reason="no_address")
        assert all(d["attempts"] == 0 and d["sent_at"] is None for d in skipped)

        never = new_tid()
        await svc.status(never, Status.dispositioned, 2, previous=Status.submitted)
        [entry] = await svc.wait_deliveries(never, 1, status="skipped")
        assert entry["reason"] == "no_contact"

        bad = new_tid()
        await svc.contact(bad, email_address="not an address\r\nBcc: x@evil.test", phone=None)
        await svc.status(bad, Status.dispositioned, 2, previous=Status.submitted)
        await svc.wait_deliveries(bad, 2, status="skipped", reason="invalid_email")
        assert svc.eml_files() == []


async def test_the_same_event_twice_makes_one_mail(notify: Notify) -> None:
    tid = new_tid()
    await notify.contact(tid)
    event = notify.status_event(tid, Status.in_progress, 3, previous=Status.dispositioned)
    await notify.publish_twice(event)
    # A later event for the same case: once its mail is out, the repeat before it has been handled too.
    await notify.followup(tid, "Penanda urutan.")
    await notify.wait_deliveries(tid, 3, status="sent")
    assert len(notify.mails_for(tid)) == 3
    [status_entry] = [d for d in await notify.deliveries(tid) if d["template"] == "status_changed"]
    assert status_entry["attempts"] == 1


async def test_a_notification_is_created_once_per_event_and_recipient(notify: Notify) -> None:
    """The unique (event_id, recipient_kind, recipient_id) holds even when the inbox is bypassed."""
    tid = new_tid()
    env = new_event(notify.status_event(tid, Status.submitted, 1), source="routing")
    now = notify.runtime.clock.now()
    notice = Notice.of(env, template="status_changed", tracking_id=tid, context={})
    async with notify.runtime.db.session() as session, session.begin():
        first = await enqueue(session, notice, Addressee(RecipientKind.reporter), now=now)
        again = await enqueue(session, notice, Addressee(RecipientKind.reporter), now=now)
    assert (first, again) == (True, False)
    async with notify.runtime.db.session() as session:
        count = (
            await session.execute(select(func.count()).select_from(Notification).where(Notification.tracking_id == tid))
        ).scalar()
        row = await session.get(Notification, notification_id(str(env.id), "reporter"))
    assert count == 1 and row is not None and row.recipient_id == ""


async def test_contact_details_and_receipt_are_sealed_at_rest(notify: Notify, backend: str) -> None:
    tid = new_tid()
    secrets = {"name": "Kartini Wulandari", "email": "kartini.wulandari@example.test", "phone": "+62 813 9876 5432"}
    receipt = "QZ7K-M2PA-88XR-T4WV-LL3N-C9DE-5HUB-YJ6F"
    await notify.contact(
        tid, name=secrets["name"], email_address=secrets["email"], phone=secrets["phone"], receipt=receipt
    )
    await notify.status(tid, Status.in_progress, 3, previous=Status.dispositioned)
    entries = await notify.wait_deliveries(tid, 2, status="sent")
    assert secrets["email"] not in str(entries) and receipt not in str(entries)
    [confirmation] = [m for m in notify.mails_for(tid) if "diterima" in m["Subject"]]
    assert receipt in body_of(confirmation), "the confirmation carries the receipt"

    async with notify.runtime.db.session() as session:
        stored = await session.get(Contact, tid)
        assert stored is not None
        assert secrets["email"] not in (stored.email_sealed or "")
        opened = await open_contact(session, Sealer([TEST_ENCRYPTION_KEY]), tid)
        held = (await session.execute(select(Notification.context_sealed).where(Notification.tracking_id == tid))).all()
    assert opened is not None and opened.email == secrets["email"] and opened.phone == secrets["phone"]
    assert secrets["email"] not in repr(opened)
    assert held == [(None,), (None,)], "the sealed receipt is dropped once the confirmation is sent"

    # Nothing any table holds shows a contact detail or the receipt (on either database).
    async with notify.runtime.db.engine.connect() as conn:
        dump = ""
        for table in Base.metadata.sorted_tables:
            dump += repr((await conn.execute(select(table))).all())
    assert tid in dump
    for value in [*secrets.values(), receipt, normalize_receipt(receipt)]:
        assert value not in dump

    if backend == "sqlite":
        # And the files themselves (the database, its WAL and shared memory) never hold them in plaintext.
        db_file = Path(notify.database.url.removeprefix("sqlite+aiosqlite:///"))
        blobs = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        assert tid.encode() in blobs, "the check reads the right files"
        for value in [*secrets.values(), receipt]:
            assert value.encode() not in blobs, "a contact detail or the receipt is in plaintext in the database files"
        assert b"kartini" not in blobs.lower()


async def test_an_anonymous_reporters_name_is_never_kept(notify: Notify) -> None:
    """Were a name to come with an anonymous contact (an intake before the fix, a replayed letter), notify drops it."""
    tid = new_tid()
    await notify.contact(tid, name="Wulan Anonim", email_address="wulan@example.test", is_anonymous=True)
    await notify.status(tid, Status.in_progress, 3, previous=Status.dispositioned)
    [mail] = [m for m in await notify.wait_mails(tid, 2) if "diterima" not in m["Subject"]]
    assert body_of(mail).startswith("Yth. Pelapor,")
    async with notify.runtime.db.session() as session:
        stored = await session.get(Contact, tid)
        opened = await open_contact(session, Sealer([TEST_ENCRYPTION_KEY]), tid)
    assert stored is not None and stored.is_anonymous and stored.name_sealed is None
    assert opened is not None and opened.name is None and opened.email == "wulan@example.test"


async def test_an_unreadable_contact_fails_alone(notify: Notify) -> None:
    """A contact sealed with a key the service no longer has: retried, then failed; other mail still flows."""
    from shared.crypto import generate_fernet_key

    stranger = Sealer([generate_fernet_key()])
    broken = new_tid()
    async with notify.runtime.db.session() as session, session.begin():
        session.add(
            Contact(
                tracking_id=broken,
                email_sealed=stranger.seal("lost@example.test"),
                language="id",
                is_anonymous=False,
                registered_at=notify.runtime.clock.now(),
            )
        )
    fine = new_tid()
    await notify.contact(fine)
    await notify.status(broken, Status.dispositioned, 2, previous=Status.submitted)
    await notify.status(fine, Status.dispositioned, 2, previous=Status.submitted)
    await notify.wait_mails(fine, 2)
    [entry] = await notify.wait_deliveries(broken, 1, status="failed")
    assert entry["attempts"] == notify.settings.max_attempts and entry["reason"] == "max_attempts"
    assert "cannot decrypt" in entry["last_error"]
