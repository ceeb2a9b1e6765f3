"""A channel client (an email or SMS gateway) adds a message for a reporter with its key and the sender's contact, and
the reporter's messages and uploads take an Idempotency-Key, on both paths."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from intake_svc.models import ATTACHMENTS, ReporterMessage
from shared.domain import Role
from tests.intake_svc.conftest import Intake, issue_key, limited_intake
from tests.support.apps import eventually, stream_events
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase
from tests.support.files import pdf

NOT_FOUND = b'{"error":{"code":"not_found","message":"complaint not found"}}'
WINDOW = 60
SITI = {"email": "siti.aminah@example.test"}


def messages_path(tid: str) -> str:
    return f"/api/v1/complaints/{tid}/messages"


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


async def as_channel(intake: Intake, key: str, tid: str, sender: dict[str, str], **extra: str) -> httpx.Response:
    body = {"content": "Tambahan dari surel pelapor.", "sender": sender}
    return await intake.client.post(messages_path(tid), json=body, headers=bearer(key, **extra))


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


@pytest.fixture
async def channel_key(intake: Intake) -> str:
    return await issue_key(intake, Role.channel)


async def test_a_channel_writes_for_the_reporter_whose_email_or_phone_is_on_file(
    intake: Intake, channel_key: str
) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    by_email = await as_channel(intake, channel_key, tid, {"email": "Siti.Aminah@EXAMPLE.test"})
    assert by_email.status_code == 201, by_email.text
    by_phone = await as_channel(intake, channel_key, tid, {"phone": "0812-0000-1111"})
    assert by_phone.status_code == 201, by_phone.text
    view = await intake.view(receipt)
    assert [m["message_id"] for m in view["messages"]] == [by_email.json()["message_id"], by_phone.json()["message_id"]]

    async def both_published() -> list[dict[str, Any]] | None:
        events = await stream_events(intake.bus, "simpul.reporter.replied")
        return events if len(events) >= 2 else None

    replied = await eventually(both_published)
    assert [e["data"]["tracking_id"] for e in replied] == [tid, tid]


async def test_another_sender_an_unknown_case_and_a_case_without_that_contact_answer_the_same_404(
    intake: Intake, channel_key: str
) -> None:
    named = (await intake.submit())["tracking_id"]
    email_only = (await intake.submit(reporter={"email": "budi@example.test"}))["tracking_id"]
    no_contact = (await intake.submit(reporter=None))["tracking_id"]
    answers = [
        await as_channel(intake, channel_key, named, {"email": "orang.lain@example.test"}),
        await as_channel(intake, channel_key, named, {"phone": "+62 812 9999 9999"}),
        await as_channel(intake, channel_key, "SPL-0000000000", {"email": "siti.aminah@example.test"}),
        await as_channel(intake, channel_key, email_only, {"phone": "+62 812 0000 1111"}),
        await as_channel(intake, channel_key, no_contact, {"email": "siti.aminah@example.test"}),
    ]
    assert {(r.status_code, r.text) for r in answers} == {
        (404, '{"error":{"code":"not_found","message":"complaint not found"}}')
    }
    assert await intake.count(ReporterMessage.__table__) == 0


@pytest.mark.parametrize(
    "hidden",
    [{"is_anonymous": True}, {"is_confidential": True}, {"classification": "wbs"}],
    ids=["anonymous", "confidential", "wbs"],
)
async def test_a_case_whose_reporter_is_hidden_takes_no_sender_only_the_receipt(
    intake: Intake, channel_key: str, hidden: dict[str, Any]
) -> None:
    receipt = await intake.submit(**hidden)
    tid = receipt["tracking_id"]
    answers = [
        await as_channel(intake, channel_key, tid, SITI),
        await as_channel(intake, channel_key, tid, {"phone": "+62 812 0000 1111"}),
        await as_channel(intake, channel_key, "SPL-0000000000", SITI),
    ]
    assert {(r.status_code, r.content) for r in answers} == {(404, NOT_FOUND)}, "the right sender, as an unknown case"
    assert await intake.count(ReporterMessage.__table__) == 0
    mine = await intake.client.post(
        messages_path(tid), json={"content": "Dengan resi."}, headers={"X-Receipt": receipt["receipt"]}
    )
    assert mine.status_code == 201, mine.text


async def test_failed_sender_checks_lock_out_the_case_and_the_key_for_a_window(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    clock = ManualClock()
    async with limited_intake(
        database,
        natsd,
        tmp_path,
        clock=clock,
        sender_failures_per_case=3,
        sender_failures_per_channel_key=5,
        receipt_failure_window_s=WINDOW,
    ) as intake:
        guesser, other_key = await issue_key(intake, Role.channel), await issue_key(intake, Role.channel)
        receipt = await intake.submit()
        tid = receipt["tracking_id"]
        unknown = "SPL-0000000000"

        # Below the limits every miss is the same 404, on a real case and on an unknown one alike.
        misses = []
        for case in (tid, unknown):
            for guess in ("a@example.test", "b@example.test", "c@example.test"):
                misses.append(await as_channel(intake, guesser if case == tid else other_key, case, {"email": guess}))
        assert {(r.status_code, r.content, r.headers.get("Retry-After")) for r in misses} == {(404, NOT_FOUND, None)}

        # Three misses locked each case for a window, for every key and even for the right sender.
        for case, key in ((tid, other_key), (tid, guesser), (unknown, guesser)):
            locked = await as_channel(intake, key, case, SITI)
            assert locked.status_code == 429, locked.text
            assert locked.json() == {
                "error": {"code": "rate_limited", "message": "too many failed sender checks; retry later"}
            }
            assert locked.headers["Retry-After"] == str(WINDOW)
        # The reporter's receipt still opens the case.
        mine = await intake.client.post(
            messages_path(tid), json={"content": "Dengan resi."}, headers={"X-Receipt": receipt["receipt"]}
        )
        assert mine.status_code == 201, mine.text

        # A key's misses add up over cases: two more (five in all) lock the key out of a case it never missed.
        fresh = (await intake.submit())["tracking_id"]
        for case in ("SPL-1111111111", "SPL-2222222222"):
            assert (await as_channel(intake, guesser, case, SITI)).status_code == 404
        assert (await as_channel(intake, guesser, fresh, SITI)).status_code == 429
        assert (await as_channel(intake, other_key, fresh, SITI)).status_code == 201, "another key is not held"

        clock.advance(timedelta(seconds=WINDOW))
        assert (await as_channel(intake, guesser, tid, SITI)).status_code == 201, "a lockout lasts one window"
        assert await intake.count(ReporterMessage.__table__) == 3


async def test_keys_and_senders_are_checked(intake: Intake, channel_key: str) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    agency_key = await issue_key(intake, Role.agency, "KEMENKUMHAM")
    r = await as_channel(intake, agency_key, tid, {"email": "siti.aminah@example.test"})
    assert r.status_code == 403 and code(r) == "forbidden"
    r = await as_channel(intake, "sk_channel_not-a-key", tid, {"email": "siti.aminah@example.test"})
    assert r.status_code == 401 and code(r) == "unauthenticated"

    def refused(r: httpx.Response, loc: list[str], kind: str) -> bool:
        detail = r.json()["error"]["details"][0]
        return r.status_code == 422 and code(r) == "validation_error" and (detail["loc"], detail["type"]) == (loc, kind)

    no_sender = await intake.client.post(messages_path(tid), json={"content": "x"}, headers=bearer(channel_key))
    assert refused(no_sender, ["body", "sender"], "sender_required")
    with_receipt = await as_channel(
        intake, channel_key, tid, {"email": "siti.aminah@example.test"}, **{"X-Receipt": receipt["receipt"]}
    )
    assert refused(with_receipt, ["header", "X-Receipt"], "receipt_with_key")
    sender_with_receipt = await intake.client.post(
        messages_path(tid),
        json={"content": "x", "sender": {"email": "siti.aminah@example.test"}},
        headers={"X-Receipt": receipt["receipt"]},
    )
    assert refused(sender_with_receipt, ["body", "sender"], "sender_not_allowed")
    for sender in ({}, {"email": "a@example.test", "phone": "+6281200001111"}, {"phone": "12"}, {"email": "x"}):
        r = await as_channel(intake, channel_key, tid, sender)
        assert r.status_code == 422 and code(r) == "validation_error", sender
    assert await intake.count(ReporterMessage.__table__) == 0


async def test_a_retried_message_is_stored_once_on_either_path(intake: Intake, channel_key: str) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    sender = {"email": "siti.aminah@example.test"}
    first = await as_channel(intake, channel_key, tid, sender, **{"Idempotency-Key": "surel-<abc@x>"})
    again = await as_channel(intake, channel_key, tid, sender, **{"Idempotency-Key": "surel-<abc@x>"})
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await intake.client.post(
        messages_path(tid),
        json={"content": "Isi lain.", "sender": sender},
        headers=bearer(channel_key, **{"Idempotency-Key": "surel-<abc@x>"}),
    )
    assert other.status_code == 422 and code(other) == "idempotency_key_mismatch"

    headers = {"X-Receipt": receipt["receipt"], "Idempotency-Key": "pesan-1"}
    mine = [await intake.client.post(messages_path(tid), json={"content": "Sekali saja."}, headers=headers)]
    mine.append(await intake.client.post(messages_path(tid), json={"content": "Sekali saja."}, headers=headers))
    assert [r.status_code for r in mine] == [201, 201] and mine[0].json() == mine[1].json()
    # The same key with another receipt is another reporter's key: it replays nothing of this one.
    someone = await intake.submit()
    theirs = await intake.client.post(
        messages_path(someone["tracking_id"]),
        json={"content": "Sekali saja."},
        headers={"X-Receipt": someone["receipt"], "Idempotency-Key": "pesan-1"},
    )
    assert theirs.status_code == 201 and theirs.json()["message_id"] != mine[0].json()["message_id"]
    assert await intake.count(ReporterMessage.__table__) == 3


async def test_a_refused_message_leaves_its_key_free(intake: Intake, channel_key: str) -> None:
    tid = (await intake.submit())["tracking_id"]
    wrong = await as_channel(intake, channel_key, tid, {"email": "lain@example.test"}, **{"Idempotency-Key": "k"})
    assert wrong.status_code == 404
    right = await as_channel(
        intake, channel_key, tid, {"email": "siti.aminah@example.test"}, **{"Idempotency-Key": "k"}
    )
    assert right.status_code == 201 and "idempotent-replayed" not in right.headers


async def test_a_retried_upload_with_its_idempotency_key_stores_one_file(intake: Intake) -> None:
    receipt = await intake.submit()
    path = f"/api/v1/complaints/{receipt['tracking_id']}/attachments"
    headers = {"X-Receipt": receipt["receipt"], "Idempotency-Key": "lampiran-1"}
    uploads: list[Any] = []
    for _ in range(2):
        uploads.append(await intake.client.post(path, files={"file": ("a.pdf", pdf())}, headers=headers))
    first, again = uploads
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await intake.client.post(path, files={"file": ("a.pdf", pdf("lain"))}, headers=headers)
    assert other.status_code == 422 and code(other) == "idempotency_key_mismatch"
    assert [a["id"] for a in (await intake.view(receipt))["attachments"]] == [first.json()["id"]]
    assert await intake.count(ATTACHMENTS) == 1
    obs = await intake.bus.js.object_store("simpul-files-intake")
    assert [i.name for i in await obs.list(ignore_deletes=True)] == [first.json()["id"]]
