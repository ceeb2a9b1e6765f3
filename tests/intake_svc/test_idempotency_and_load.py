"""Idempotency-Key replays and group commit under concurrent load."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import event

from intake_svc.app import IDEMPOTENCY_KEYS
from intake_svc.models import KIT, Base
from shared.db.expiry import purge_expired
from tests.intake_svc.conftest import Intake, complaint_body, subject_count
from tests.support.apps import eventually, stream_events

COMPLAINTS = Base.metadata.tables["complaints"]
IDEMPOTENCY = Base.metadata.tables["idempotency_keys"]


async def test_concurrent_retries_with_one_key_create_one_complaint(intake: Intake) -> None:
    body = complaint_body()
    headers = {"Idempotency-Key": "retry-me-0001"}
    responses = await asyncio.gather(
        *(intake.client.post("/api/v1/complaints", json=body, headers=headers) for _ in range(20))
    )
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    bodies = {r.content for r in responses}
    assert len(bodies) == 1, "every retry gets the same answer, receipt included"
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count("true") == 19 and replayed.count(None) == 1
    assert await intake.count(COMPLAINTS) == 1
    assert await intake.count(KIT.outbox) == 2, "one complaint.submitted and one contact.registered"
    first = responses[0].json()
    view = await intake.view(first)
    assert view["tracking_id"] == first["tracking_id"]

    # A later retry still replays; the same key with another body is refused.
    again = await intake.client.post("/api/v1/complaints", json=body, headers=headers)
    assert again.status_code == 201 and again.content == responses[0].content
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await intake.client.post("/api/v1/complaints", json=complaint_body(title="Lain"), headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["error"]["code"] == "idempotency_key_mismatch"
    assert await intake.count(COMPLAINTS) == 1
    [event_] = await eventually(lambda: stream_events(intake.bus, "simpul.complaint.submitted"))
    assert event_["data"]["tracking_id"] == first["tracking_id"]


async def test_same_key_with_different_bodies_in_one_burst(intake: Intake) -> None:
    headers = {"Idempotency-Key": "burst-key"}
    bodies = [complaint_body(title=f"Judul {i % 2}") for i in range(10)]
    responses = await asyncio.gather(
        *(intake.client.post("/api/v1/complaints", json=b, headers=headers) for b in bodies)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 5 + [422] * 5, codes
    assert len({r.json()["tracking_id"] for r in responses if r.status_code == 201}) == 1
    assert await intake.count(COMPLAINTS) == 1


async def test_expired_keys_are_purged(intake: Intake) -> None:
    headers = {"Idempotency-Key": "short-lived"}
    first = await intake.submit(headers=headers)
    assert await intake.count(IDEMPOTENCY) == 1
    runtime = intake.runtime
    assert await purge_expired(runtime.db, IDEMPOTENCY_KEYS, runtime.clock.now()) == 0
    later = runtime.clock.now() + timedelta(hours=intake.settings.idempotency_ttl_hours, seconds=1)
    assert await purge_expired(runtime.db, IDEMPOTENCY_KEYS, later) == 1
    assert await intake.count(IDEMPOTENCY) == 0
    second = await intake.submit(headers=headers)
    assert second["tracking_id"] != first["tracking_id"]


async def test_many_concurrent_submissions_are_group_committed(intake: Intake) -> None:
    commits = 0

    def count_commit(_: object) -> None:
        nonlocal commits
        commits += 1

    engine = intake.runtime.db.engine.sync_engine
    event.listen(engine, "commit", count_commit)
    try:
        responses = await asyncio.gather(
            *(intake.client.post("/api/v1/complaints", json=complaint_body(title=f"Keluhan {i}")) for i in range(200))
        )
    finally:
        event.remove(engine, "commit", count_commit)
    assert [r.status_code for r in responses] == [201] * 200
    assert len({r.json()["tracking_id"] for r in responses}) == 200
    assert len({r.json()["receipt"] for r in responses}) == 200
    assert await intake.count(COMPLAINTS) == 200
    assert commits < 100, f"{commits} commits for 200 submissions: no group commit"

    async def all_relayed() -> bool:
        return await subject_count(intake.bus, "simpul.complaint.submitted") == 200

    await eventually(all_relayed, timeout=20)
