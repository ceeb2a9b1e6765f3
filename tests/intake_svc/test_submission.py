"""Submitting: receipts, sealed contacts, the events it relays, validation and the wbs rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from intake_svc.models import Base, Contact
from shared.bus import PRIVATE_STREAM
from shared.crypto import hash_receipt, normalize_receipt
from shared.events.contracts import ContactDetails
from tests.intake_svc.conftest import REPORTER, Intake, complaint_body
from tests.support.apps import CONTACT, IDENTITY, eventually, stream_events
from tests.support.databases import stored_text

TRACKING_ID = re.compile(r"^SPL-[0-9A-HJKMNP-TV-Z]{10}$")

PHONE = "+6281200001111"
"""REPORTER's phone as intake keeps and forwards it (E.164)."""


async def test_submit_returns_receipt_once_seals_contact_and_relays_events(intake: Intake) -> None:
    r = await intake.client.post(
        "/api/v1/complaints", json=complaint_body(), headers={"Idempotency-Key": "first-submission"}
    )
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert set(receipt) == {"tracking_id", "receipt", "status", "submitted_at", "warnings"}
    assert TRACKING_ID.match(receipt["tracking_id"])
    assert receipt["status"] == "submitted"
    assert len(normalize_receipt(receipt["receipt"])) == 32
    tid = receipt["tracking_id"]

    shared_events = await eventually(lambda: stream_events(intake.bus, "simpul.complaint.submitted"))
    private_events = await eventually(
        lambda: stream_events(intake.bus, "private.notify.contact.registered", PRIVATE_STREAM)
    )
    [submitted] = shared_events
    assert submitted["type"] == "complaint.submitted" and submitted["correlation_id"] == tid
    case = submitted["data"]["case"]
    assert IDENTITY.open(case["reporter_name_sealed"]) == REPORTER["name"]
    assert case["region_code"] == "3578" and case["is_anonymous"] is False
    raw = str(submitted)
    for secret in (REPORTER["name"], REPORTER["email"], PHONE, receipt["receipt"]):
        assert secret not in raw
    [contact] = private_events
    details = ContactDetails.opened(contact["data"].pop("details_sealed"), CONTACT)
    assert details == ContactDetails(
        name=REPORTER["name"], email=REPORTER["email"], phone=PHONE, receipt=receipt["receipt"]
    ), "the receipt travels sealed to notify, for the confirmation"
    assert contact["data"] == {"tracking_id": tid, "language": "id", "is_anonymous": False}
    for secret in (REPORTER["name"], REPORTER["email"], PHONE, receipt["receipt"]):
        assert secret not in str(contact), "the private event holds the details sealed, not in plaintext"

    # Nothing in the database holds the receipt or the contact details in plaintext.
    values = await stored_text(intake.runtime.db.engine, Base.metadata)
    assert hash_receipt(receipt["receipt"]) in values, "the receipt is kept as its hash"
    for secret in (receipt["receipt"], normalize_receipt(receipt["receipt"]), REPORTER["email"], PHONE):
        assert not any(secret in v for v in values), f"{secret!r} stored in plaintext"
    async with intake.runtime.db.session() as session:
        stored = await session.get(Contact, tid)
        assert stored is not None and stored.email_sealed
    sealer = intake.runtime.context.sealers.at_rest
    assert sealer.open(stored.email_sealed) == REPORTER["email"]
    assert sealer.open(stored.phone_sealed) == PHONE

    if intake.database.schema is None:  # SQLite: not even the file's bytes (WAL included) hold them
        db_file = Path(intake.database.url.split("///", 1)[1])
        blobs = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        for secret in (REPORTER["email"], PHONE, normalize_receipt(receipt["receipt"])):
            assert secret.encode() not in blobs


async def test_reporter_view_after_submission(intake: Intake) -> None:
    receipt = await intake.submit(agency_code="LAPAS-SBY", incident_date="2024-05-01")
    view = await intake.view(receipt)
    assert view["tracking_id"] == receipt["tracking_id"]
    assert view["status"] == "submitted" and view["status_label"] == "Belum Terverifikasi"
    assert view["agency_code"] is None, "the reporter's choice is not yet the holder"
    assert [t["status"] for t in view["timeline"]] == ["submitted"]
    assert view["follow_ups"] == [] and view["messages"] == [] and view["rating"] is None
    assert view["submitted_at"].endswith("Z") or view["submitted_at"].endswith("+00:00")
    assert "reporter" not in view and "email" not in str(view)
    # Spaces, dashes and case in the receipt do not matter.
    loose = receipt["receipt"].replace("-", " ").lower()
    r = await intake.client.get(f"/api/v1/complaints/{receipt['tracking_id']}", headers={"X-Receipt": loose})
    assert r.status_code == 200


async def test_anonymous_reporter_name_stays_home(intake: Intake) -> None:
    receipt = await intake.submit(is_anonymous=True)
    events = await eventually(lambda: stream_events(intake.bus, "simpul.complaint.submitted"))
    assert events[0]["data"]["case"]["reporter_name_sealed"] is None
    assert REPORTER["name"] not in str(events[0])
    view = await intake.view(receipt)
    assert view["is_anonymous"] is True and view["is_confidential"] is False
    # notify gets what it needs to write to them, never the name (nor, through it, the private or dead-letter streams).
    [contact] = await eventually(lambda: stream_events(intake.bus, "private.notify.contact.registered", PRIVATE_STREAM))
    details = ContactDetails.opened(contact["data"]["details_sealed"], CONTACT)
    assert details.name is None and details.email == REPORTER["email"] and details.phone is not None
    assert contact["data"]["is_anonymous"] is True
    async with intake.runtime.db.session() as session:
        stored = await session.get(Contact, receipt["tracking_id"])
    assert stored is not None and stored.name_sealed is not None, "intake keeps it, sealed at rest"


async def test_wbs_is_forced_anonymous_and_confidential(intake: Intake) -> None:
    receipt = await intake.submit(classification="wbs", channel="wbs", is_anonymous=False, is_confidential=False)
    view = await intake.view(receipt)
    assert view["is_anonymous"] is True and view["is_confidential"] is True
    [submitted] = await eventually(lambda: stream_events(intake.bus, "simpul.complaint.submitted"))
    case = submitted["data"]["case"]
    assert case["is_anonymous"] is True and case["is_confidential"] is True
    assert case["reporter_name_sealed"] is None
    assert REPORTER["name"] not in str(submitted)
    [contact] = await eventually(lambda: stream_events(intake.bus, "private.notify.contact.registered", PRIVATE_STREAM))
    assert contact["data"]["is_anonymous"] is True


async def test_contact_registered_is_emitted_without_contact_details(intake: Intake) -> None:
    receipt = await intake.submit(reporter=None, language="en")
    [contact] = await eventually(lambda: stream_events(intake.bus, "private.notify.contact.registered", PRIVATE_STREAM))
    details = ContactDetails.opened(contact["data"].pop("details_sealed"), CONTACT)
    assert details == ContactDetails(), "nobody to send a confirmation to: no receipt either"
    assert contact["data"] == {"tracking_id": receipt["tracking_id"], "language": "en", "is_anonymous": False}


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).date().isoformat()


INVALID = {
    "missing-title": {k: v for k, v in complaint_body().items() if k != "title"},
    "empty-title": complaint_body(title="  "),
    "long-title": complaint_body(title="x" * 201),
    "bad-classification": complaint_body(classification="gossip"),
    "bad-region-code": complaint_body(region_code="35.78"),
    "odd-region-code": complaint_body(region_code="357"),
    "bad-agency-code": complaint_body(agency_code="A B"),
    "extra-field": complaint_body(unexpected="field"),
    "extra-reporter-field": complaint_body(reporter={"name": "A", "address": "x"}),
    "future-incident-date": complaint_body(incident_date=_future()),
    "huge-content": complaint_body(content="x" * 20001),
    "bad-email": complaint_body(reporter={"email": "not-an-email"}),
    "bad-phone": complaint_body(reporter={"phone": "call me maybe"}),
    "bad-channel": complaint_body(channel="pigeon"),
    "bad-language": complaint_body(language="fr"),
}


async def test_invalid_submissions_are_422(intake: Intake) -> None:
    for name, body in INVALID.items():
        r = await intake.client.post("/api/v1/complaints", json=body)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["error"]["code"] == "validation_error", name


async def test_malformed_json_and_bad_idempotency_key_are_422(intake: Intake) -> None:
    r = await intake.client.post(
        "/api/v1/complaints", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = await intake.client.post("/api/v1/complaints", json=complaint_body(), headers={"Idempotency-Key": "k" * 201})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert await intake.count(Base.metadata.tables["complaints"]) == 0
