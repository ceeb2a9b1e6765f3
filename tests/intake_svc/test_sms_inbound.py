"""The SMS door: an SMS gateway's signed calls become complaints or replies, once each, within each number's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from intake_svc.models import Complaint, Contact, ReporterMessage, SmsCount
from intake_svc.privacy import intake_sealers
from intake_svc.settings import IntakeSettings
from shared.bus import PRIVATE_STREAM
from shared.domain import Role, Status
from shared.events.contracts import ContactDetails
from shared.signing import signature
from tests.intake_svc.conftest import Intake, issue_key, publish_and_wait, status_changed
from tests.intake_svc.sms_gateway import INBOUND, NUMBER, SECRET, Gateway, sms_door
from tests.support.apps import eventually, stream_events
from tests.support.databases import TestDatabase, stored_text

OTHER = "+6285700002222"


@pytest.fixture
async def gateway(database: TestDatabase, natsd: Any, tmp_path: Path) -> Any:
    async with sms_door(
        database, natsd, tmp_path, sms_complaints_per_number_per_day=3, sms_messages_per_number_per_day=3
    ) as gw:
        yield gw


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


async def complaint(intake: Intake, tid: str) -> Complaint:
    async with intake.runtime.db.session() as session:
        found = await session.get(Complaint, tid)
        assert found is not None
        return found


async def messages(intake: Intake) -> list[ReporterMessage]:
    async with intake.runtime.db.session() as session:
        return list((await session.scalars(select(ReporterMessage).order_by(ReporterMessage.sent_at))).all())


async def filed(gateway: Gateway, text: str, **kw: Any) -> Complaint:
    r = await gateway.sms(text, **kw)
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "complaint"
    return await complaint(gateway.intake, r.json()["tracking_id"])


async def test_an_sms_becomes_a_complaint_and_its_receipt_goes_to_notify_only(gateway: Gateway) -> None:
    r = await gateway.sms("  Lampu jalan di depan pasar Gubeng mati sejak seminggu, mohon segera diperbaiki.  ")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == {"kind", "tracking_id", "status", "reason", "reply"}
    assert answer["kind"] == "complaint" and answer["status"] == "submitted" and answer["reason"] is None
    tid = answer["tracking_id"]
    row = await complaint(gateway.intake, tid)
    assert (row.channel, row.classification, row.category) == ("sms", "pengaduan", None)
    assert row.content == "Lampu jalan di depan pasar Gubeng mati sejak seminggu, mohon segera diperbaiki."
    assert row.title == "Lampu jalan di depan pasar Gubeng mati sejak seminggu, mohon"
    sealers = intake_sealers(gateway.intake.settings)
    async with gateway.intake.runtime.db.session() as session:
        contact = await session.get(Contact, tid)
    assert contact is not None and sealers.at_rest.open_optional(contact.phone_sealed) == NUMBER
    # The receipt travels sealed to notify alone (which texts it back: tests/notify_svc/test_sms_door_confirmation.py).
    (registered,) = await stream_events(gateway.intake.bus, "private.notify.contact.registered", PRIVATE_STREAM)
    details = ContactDetails.opened(registered["data"]["details_sealed"], sealers.contact)
    assert details.phone == NUMBER and details.receipt and details.receipt not in r.text
    (submitted,) = await stream_events(gateway.intake.bus, "simpul.complaint.submitted")
    assert submitted["data"]["case"]["channel"] == "sms" and NUMBER not in json.dumps(submitted)


async def test_a_keyword_names_the_category_and_is_taken_off(gateway: Gateway) -> None:
    jalan = await filed(gateway, "jalan: Jalan Ahmad Yani berlubang besar")
    assert (jalan.category, jalan.content, jalan.title) == (
        "infrastruktur.jalan",
        "Jalan Ahmad Yani berlubang besar",
        "Jalan Ahmad Yani berlubang besar",
    )
    sekolah = await filed(gateway, "SEKOLAH pungutan liar saat pendaftaran")
    assert (sekolah.category, sekolah.content) == ("pendidikan", "pungutan liar saat pendaftaran")
    # A keyword later in the text names nothing.
    later = await filed(gateway, "Tolong jalan rusak", sender=OTHER)
    assert (later.category, later.content) == (None, "Tolong jalan rusak")


@pytest.mark.parametrize("text", ["", "   \n\t ", "Jalan"])
async def test_a_text_that_says_nothing_is_filed_for_triage_all_the_same(gateway: Gateway, text: str) -> None:
    row = await filed(gateway, text)
    assert row.content == row.title == "(pesan kosong)"
    assert row.category == ("infrastruktur.jalan" if text == "Jalan" else None)


async def test_an_sms_beginning_with_a_tracking_id_replies_to_that_case(gateway: Gateway) -> None:
    tid = (await filed(gateway, "Sampah menumpuk di Jl. Kenari")).tracking_id
    r = await gateway.sms(f"{tid.lower()} Sudah tiga hari tidak diangkut.")
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "message", "tracking_id": tid, "status": "submitted", "reason": None, "reply": None}
    # Crockford's look-alikes read as its digits, and a bare tracking id is a message that says nothing.
    lookalike = tid[:4] + tid[4:].replace("0", "O").replace("1", "I")
    assert (await gateway.sms(lookalike)).json()["kind"] == "message"
    assert [(m.tracking_id, m.content) for m in await messages(gateway.intake)] == [
        (tid, "Sudah tiga hari tidak diangkut."),
        (tid, "(pesan kosong)"),
    ]

    async def both_relayed() -> list[dict[str, Any]] | None:
        events = await stream_events(gateway.intake.bus, "simpul.reporter.replied")
        return events if len(events) >= 2 else None

    assert [e["data"]["tracking_id"] for e in await eventually(both_relayed)] == [tid, tid]


async def test_another_number_or_an_unknown_case_is_rejected_alike_and_files_nothing(gateway: Gateway) -> None:
    tid = (await filed(gateway, "Sampah menumpuk")).tracking_id
    stranger = (await gateway.sms(f"{tid} saya juga", sender=OTHER)).json()
    unknown = (await gateway.sms("SPL-ZZZZZZZZZZ halo")).json()
    for answer, named in ((stranger, tid), (unknown, "SPL-ZZZZZZZZZZ")):
        assert answer["kind"] == "rejected" and answer["reason"] == "not_found"
        assert answer["tracking_id"] is None and answer["status"] is None
        assert answer["reply"].startswith(f"Simpul: nomor laporan {named} tidak ditemukan")
    assert await messages(gateway.intake) == []
    assert await gateway.intake.count(Complaint.__table__) == 1, "a mistyped tracking id is no new complaint"


async def test_a_reply_to_a_case_whose_reporter_is_hidden_is_rejected_as_not_found(gateway: Gateway) -> None:
    hidden = [
        (await gateway.intake.submit(**flag, reporter={"phone": NUMBER}))["tracking_id"]
        for flag in ({"is_anonymous": True}, {"is_confidential": True}, {"classification": "wbs"})
    ]
    for tid in hidden:
        answer = (await gateway.sms(f"{tid} saya pelapornya", sender=NUMBER)).json()
        assert answer == {
            "kind": "rejected",
            "tracking_id": None,
            "status": None,
            "reason": "not_found",
            "reply": f"Simpul: nomor laporan {tid} tidak ditemukan untuk nomor Anda; pesan tidak diteruskan."
            " / No such report for your number; not delivered.",
        }
    assert await messages(gateway.intake) == []


async def test_replies_from_numbers_not_on_file_lock_the_case_out_of_sms_for_a_window(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with sms_door(database, natsd, tmp_path, sender_failures_per_case=2, receipt_failure_window_s=60) as gateway:
        tid = (await filed(gateway, "Sampah menumpuk")).tracking_id
        cases = (tid, "SPL-ZZZZZZZZZZ")
        for case in cases:
            for sender in (OTHER, "+6285700003333"):
                assert (await gateway.sms(f"{case} bukan saya", sender=sender)).json()["reason"] == "not_found"
        # Two misses locked each case, a real one as an unknown one, even for the number on file.
        for case in cases:
            locked = await gateway.sms(f"{case} ini pelapornya")
            assert locked.status_code == 429 and code(locked) == "rate_limited", locked.text
            assert locked.headers["Retry-After"] == "60"
        assert await messages(gateway.intake) == []
        async with gateway.intake.runtime.db.session() as session:
            counted = sum(c.count for c in (await session.scalars(select(SmsCount))).all() if c.kind == "message")
        assert counted == 4, "a locked-out SMS is not counted: the gateway may offer it again"
        gateway.clock.advance(timedelta(seconds=60))
        assert (await gateway.sms(f"{tid} ini pelapornya")).json()["kind"] == "message"


async def test_a_closed_case_takes_no_sms(gateway: Gateway) -> None:
    tid = (await filed(gateway, "Sampah menumpuk")).tracking_id
    await publish_and_wait(gateway.intake, status_changed(tid, 1, Status.rejected, Status.submitted))
    answer = (await gateway.sms(f"{tid} masih menumpuk")).json()
    assert (answer["kind"], answer["reason"]) == ("rejected", "case_closed")
    assert await messages(gateway.intake) == []


async def test_a_redelivered_sms_files_nothing_twice(gateway: Gateway) -> None:
    first = await gateway.sms("Air PDAM mati", message_id="gw-77")
    again = await gateway.sms("Air PDAM mati", message_id="gw-77")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await gateway.sms("Air PDAM mati", message_id="gw-77", sender=OTHER)
    assert other.json()["tracking_id"] != first.json()["tracking_id"], "message ids are per number"
    changed = await gateway.sms("Air PDAM mati total", message_id="gw-77")
    assert changed.status_code == 422 and code(changed) == "idempotency_key_mismatch"
    later = {"from": NUMBER, "text": "Air PDAM mati", "message_id": "gw-77", "received_at": "2026-12-07T08:15:00+07:00"}
    assert (await gateway.post(later)).json() == first.json(), "received_at is not compared"
    rejected = [await gateway.sms("SPL-ZZZZZZZZZZ halo", message_id="gw-79") for _ in range(2)]
    assert rejected[1].json() == rejected[0].json() and rejected[1].headers["idempotent-replayed"] == "true"
    assert await gateway.intake.count(Complaint.__table__) == 2

    tid = first.json()["tracking_id"]
    reply = [await gateway.sms(f"{tid} sudah dua hari", message_id="gw-78") for _ in range(2)]
    assert reply[0].json() == reply[1].json() and reply[0].json()["kind"] == "message"
    assert len(await messages(gateway.intake)) == 1


async def test_each_number_has_its_daily_limits_kept_as_a_keyed_hash(gateway: Gateway) -> None:
    tids = [(await filed(gateway, f"Laporan {i}")).tracking_id for i in range(3)]
    over = await gateway.sms("Laporan keempat")
    assert over.status_code == 429 and code(over) == "sms_limit_reached"
    assert 1 < int(over.headers["retry-after"]) <= 24 * 3600 + 1
    assert (await gateway.sms("Laporan lain", sender=OTHER)).json()["kind"] == "complaint"
    # Replies count apart, refused ones too.
    assert (await gateway.sms(f"{tids[0]} satu")).json()["kind"] == "message"
    assert (await gateway.sms("SPL-ZZZZZZZZZZ dua")).json()["kind"] == "rejected"
    assert (await gateway.sms(f"{tids[0]} tiga")).json()["kind"] == "message"
    over = await gateway.sms(f"{tids[0]} empat")
    assert over.status_code == 429 and code(over) == "sms_limit_reached"
    assert await gateway.intake.count(Complaint.__table__) == 4 and len(await messages(gateway.intake)) == 2

    # The next day in WIB (UTC+7), each number starts again.
    now = gateway.clock.now()
    gateway.clock.set(
        datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC) + timedelta(days=1, hours=17)
    )
    assert (await gateway.sms("Laporan esok hari")).json()["kind"] == "complaint"

    async with gateway.intake.runtime.db.session() as session:
        counts = (await session.scalars(select(SmsCount))).all()
    assert {len(c.number_hash) for c in counts} == {64}
    stored = await stored_text(gateway.intake.runtime.db.engine, Complaint.metadata)
    assert not [v for v in stored if "81200001111" in v or "85700002222" in v], "numbers are kept sealed or hashed"


async def test_the_call_must_be_a_channel_keys_and_signed(gateway: Gateway) -> None:
    body = {"from": NUMBER, "text": "Halo", "message_id": "sig-1"}
    now = int(gateway.clock.now().timestamp())
    data = json.dumps(body).encode()

    r = await gateway.intake.client.post(INBOUND, content=data, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and code(r) == "unauthenticated"
    agency_key = await issue_key(gateway.intake, Role.agency, "DINAS-PU")
    r = await gateway.post(body, key=agency_key)
    assert r.status_code == 403 and code(r) == "forbidden"
    r = await gateway.post(body, headers={"Simpul-Signature": ""})
    assert r.status_code == 401 and code(r) == "invalid_signature"
    for header in ("sha256=abc", f"t={now}", "t=soon,v1=00", f"t={now},t={now},v1=00"):
        r = await gateway.post(body, headers={"Simpul-Signature": header})
        assert r.status_code == 401 and code(r) == "invalid_signature", header
    r = await gateway.post(body, secret="another-secret")
    assert r.status_code == 401 and code(r) == "invalid_signature"
    tampered = data.replace(b"Halo", b"Hale")
    r = await gateway.intake.client.post(
        INBOUND,
        content=tampered,
        headers={
            "Authorization": f"Bearer {gateway.key}",
            "Content-Type": "application/json",
            "Simpul-Signature": signature(SECRET, now, data),
        },
    )
    assert r.status_code == 401 and code(r) == "invalid_signature"
    for stale in (now - 301, now + 301):
        r = await gateway.post(body, at=stale)
        assert r.status_code == 401 and code(r) == "stale_signature", stale
    assert await gateway.intake.count(Complaint.__table__) == 0
    r = await gateway.post(body, at=now - 299)
    assert r.status_code == 200 and r.json()["kind"] == "complaint"


@pytest.mark.parametrize(
    "body",
    [
        {"text": "x", "message_id": "a"},
        {"from": NUMBER, "message_id": "a"},
        {"from": NUMBER, "text": "x"},
        {"from": NUMBER, "text": "x", "message_id": ""},
        {"from": NUMBER, "text": "x", "message_id": "a", "extra": 1},
        {"from": "not a number", "text": "x", "message_id": "a"},
        {"from": NUMBER, "text": "x" * 5001, "message_id": "a"},
        {"from": NUMBER, "text": 5, "message_id": "a"},
        {"from": NUMBER, "text": "x", "message_id": "a", "received_at": "kemarin"},
        {"from": "+12025550123", "text": "x", "message_id": "a"},
    ],
)
async def test_a_malformed_body_is_422(gateway: Gateway, body: dict[str, Any]) -> None:
    r = await gateway.post(body)
    assert r.status_code == 422 and code(r) == "validation_error", r.text
    assert await gateway.intake.count(Complaint.__table__) == 0


async def test_a_body_that_is_no_json_is_422(gateway: Gateway) -> None:
    r = await gateway.post(raw=b"from=%2B6281200001111&text=halo")
    assert r.status_code == 422 and code(r) == "validation_error", r.text
    body = {"from": NUMBER, "text": "Halo", "message_id": "ct-1"}
    for other in ("text/plain", "application/x-www-form-urlencoded", "jsonish/json"):
        r = await gateway.post(body, headers={"Content-Type": other})
        assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["body"], (other, r.text)
    assert await gateway.intake.count(Complaint.__table__) == 0
    r = await gateway.post(body, headers={"Content-Type": "application/vnd.sms+json; charset=utf-8"})
    assert r.status_code == 200, r.text


async def test_a_body_is_only_read_once_the_call_is_the_gateways(gateway: Gateway) -> None:
    """Key and signature come first: nobody else learns from a 422 how the body is read."""
    broken, wrong = b'{"from": ', {"text": "x", "message_id": "a", "extra": 1}
    r = await gateway.intake.client.post(INBOUND, content=broken, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and code(r) == "unauthenticated", r.text
    agency_key = await issue_key(gateway.intake, Role.agency, "DINAS-PU")
    assert code(await gateway.post(raw=broken, key=agency_key)) == "forbidden"
    for unsigned in (gateway.post(raw=broken, secret="another-secret"), gateway.post(wrong, secret="another-secret")):
        r = await unsigned
        assert r.status_code == 401 and code(r) == "invalid_signature", r.text
    # Signed, the same bodies are read, and refused as a FastAPI body would be, field by field.
    r = await gateway.post(raw=broken)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["body"], r.text
    r = await gateway.post(wrong)
    assert r.status_code == 422, r.text
    assert {tuple(d["loc"]) for d in r.json()["error"]["details"]} == {("body", "from"), ("body", "extra")}


def test_the_document_shows_the_body_the_door_reads(intake: Intake) -> None:
    operation = intake.app.openapi()["paths"][INBOUND]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert operation["requestBody"]["required"] is True
    assert schema["required"] == ["from", "text", "message_id"] and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"from", "text", "message_id", "received_at"}


async def test_without_its_secret_the_door_is_closed(intake: Intake) -> None:
    key = await issue_key(intake, Role.channel)
    body = {"from": NUMBER, "text": "Halo", "message_id": "a"}
    r = await intake.client.post(INBOUND, json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 503 and code(r) == "channel_not_configured"
    assert SECRET not in r.text
    for raw in (b"{not json", b""):
        r = await intake.client.post(INBOUND, content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 503 and code(r) == "channel_not_configured", "configuration before the body"


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_secret_leaves_the_door_closed(empty: str) -> None:
    """A deployment passes its variable through empty when the secret is not set (deploy/compose)."""
    assert IntakeSettings(sms_signing_secret=empty).sms_signing_secret is None
