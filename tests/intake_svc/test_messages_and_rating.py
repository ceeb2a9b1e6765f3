"""Reporter messages and ratings: the status rules, and their events on the stream."""

from __future__ import annotations

from typing import Any

from shared.domain import Status
from tests.intake_svc.conftest import Intake, publish_and_wait, status_changed
from tests.support.apps import eventually, stream_events


async def _post(intake: Intake, receipt: dict[str, Any], what: str, body: dict[str, Any]) -> Any:
    return await intake.client.post(
        f"/api/v1/complaints/{receipt['tracking_id']}/{what}", json=body, headers={"X-Receipt": receipt["receipt"]}
    )


def _code(r: Any) -> str:
    return str(r.json()["error"]["code"])


async def test_messages_and_rating_follow_the_status(intake: Intake) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]

    # While submitted: information may be added, but there is no answer to dispute or rate.
    r = await _post(intake, receipt, "messages", {"content": "Kejadian terjadi pukul 10 pagi."})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"message_id", "sent_at"}
    r = await _post(intake, receipt, "messages", {"content": "Saya keberatan.", "disputes_answer": True})
    assert r.status_code == 409 and _code(r) == "illegal_transition"
    r = await _post(intake, receipt, "messages", {"content": "Saya terima.", "accepts_answer": True})
    assert r.status_code == 409 and _code(r) == "illegal_transition"
    r = await _post(intake, receipt, "rating", {"score": 4})
    assert r.status_code == 409 and _code(r) == "illegal_transition"

    # A wrong receipt opens nothing; bad input is 422.
    wrong = {**receipt, "receipt": "WRONG"}
    r = await _post(intake, wrong, "messages", {"content": "x"})
    assert r.status_code == 404 and _code(r) == "not_found"
    r = await _post(intake, wrong, "rating", {"score": 5})
    assert r.status_code == 404 and _code(r) == "not_found"
    both = {"content": "x", "accepts_answer": True, "disputes_answer": True}
    body: dict[str, Any]
    for body in ({"content": ""}, {"content": "x" * 5001}, {"content": "x", "extra": 1}, both):
        r = await _post(intake, receipt, "messages", body)
        assert r.status_code == 422 and _code(r) == "validation_error", body
    for body in ({"score": 0}, {"score": 6}, {"score": 3, "comment": "x" * 2001}, {}):
        r = await _post(intake, receipt, "rating", body)
        assert r.status_code == 422 and _code(r) == "validation_error", body

    # Answered: the reporter may dispute the answer, and rate it once.
    await publish_and_wait(intake, status_changed(tid, 1, Status.answered, Status.in_progress, agency_code="A1"))
    r = await _post(intake, receipt, "messages", {"content": "Jawaban belum menyelesaikan.", "disputes_answer": True})
    assert r.status_code == 201, r.text
    r = await _post(intake, receipt, "rating", {"score": 4, "comment": "Cukup cepat"})
    assert r.status_code == 201, r.text
    assert r.json()["score"] == 4 and r.json()["comment"] == "Cukup cepat"
    r = await _post(intake, receipt, "rating", {"score": 5})
    assert r.status_code == 409 and _code(r) == "already_rated"

    view = await intake.view(receipt)
    assert [m["disputes_answer"] for m in view["messages"]] == [False, True]
    assert view["rating"]["score"] == 4 and view["rating"]["comment"] == "Cukup cepat"

    # Completed: no more messages.
    await publish_and_wait(intake, status_changed(tid, 2, Status.completed, Status.answered))
    r = await _post(intake, receipt, "messages", {"content": "Satu hal lagi."})
    assert r.status_code == 409 and _code(r) == "illegal_transition"

    async def both_replies() -> list[dict[str, Any]] | None:
        found = await stream_events(intake.bus, "simpul.reporter.replied")
        return found if len(found) >= 2 else None

    replied = await eventually(both_replies)
    assert [e["data"]["tracking_id"] for e in replied] == [tid, tid]
    assert [e["data"]["disputes_answer"] for e in replied] == [False, True]
    assert [e["data"]["accepts_answer"] for e in replied] == [False, False]
    [rated] = await eventually(lambda: stream_events(intake.bus, "simpul.reporter.rated"))
    assert rated["data"]["tracking_id"] == tid and rated["data"]["score"] == 4


async def test_rejected_case_takes_no_messages_and_completed_can_be_rated(intake: Intake) -> None:
    rejected = await intake.submit()
    await publish_and_wait(
        intake, status_changed(rejected["tracking_id"], 1, Status.rejected, Status.submitted, reason_code="duplicate")
    )
    r = await _post(intake, rejected, "messages", {"content": "Mohon ditinjau ulang."})
    assert r.status_code == 409 and _code(r) == "illegal_transition"
    r = await _post(intake, rejected, "rating", {"score": 1})
    assert r.status_code == 409 and _code(r) == "illegal_transition"

    completed = await intake.submit()
    await publish_and_wait(intake, status_changed(completed["tracking_id"], 5, Status.completed, Status.answered))
    r = await _post(intake, completed, "rating", {"score": 2})
    assert r.status_code == 201, r.text


async def test_an_answered_case_can_be_accepted_without_a_rating(intake: Intake) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    await publish_and_wait(intake, status_changed(tid, 1, Status.answered, Status.in_progress, agency_code="A1"))
    r = await _post(intake, receipt, "messages", {"content": "Terima kasih, sudah beres.", "accepts_answer": True})
    assert r.status_code == 201, r.text

    async def accepted() -> list[dict[str, Any]]:
        found = await stream_events(intake.bus, "simpul.reporter.replied")
        return [e for e in found if e["data"]["tracking_id"] == tid and e["data"]["accepts_answer"]]

    [event] = await eventually(accepted)
    assert event["data"]["disputes_answer"] is False and event["data"]["content"] == "Terima kasih, sudah beres."
