"""Reporter messages are limited per case, in all and per hour (counted in the database), and long threads page."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from intake_svc.models import ReporterMessage
from shared.domain import Status
from shared.http.paging import THREAD_TAIL
from tests.intake_svc.conftest import Intake, limited_intake, publish_and_wait, status_changed
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase


async def post(intake: Intake, case: dict[str, Any], **body: Any) -> httpx.Response:
    return await intake.client.post(
        f"/api/v1/complaints/{case['tracking_id']}/messages",
        json={"content": "Tambahan informasi."} | body,
        headers={"X-Receipt": case["receipt"]},
    )


async def stored(intake: Intake) -> int:
    async with intake.runtime.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(ReporterMessage))).scalar_one())


async def test_messages_are_limited_per_hour_and_per_case(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    clock = ManualClock()
    async with limited_intake(
        database, natsd, tmp_path, clock=clock, reporter_messages_per_case=5, reporter_messages_per_hour=3
    ) as intake:
        case, other = await intake.submit(), await intake.submit()
        for _ in range(3):
            assert (await post(intake, case)).status_code == 201
            clock.advance(timedelta(minutes=10))
        # The fourth within the hour waits until the first of the three leaves the window: 60 - 30 minutes.
        r = await post(intake, case)
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "rate_limited"
        assert (
            "terlalu banyak pesan" in r.json()["error"]["message"]
            and "too many messages" in r.json()["error"]["message"]
        )
        assert r.headers["Retry-After"] == str(30 * 60)
        # Another case is not held by this one's count.
        assert (await post(intake, other)).status_code == 201

        clock.advance(timedelta(minutes=30))
        assert (await post(intake, case)).status_code == 201
        assert (await post(intake, case)).status_code == 429
        clock.advance(timedelta(minutes=10))
        assert (await post(intake, case)).status_code == 201
        # Five in all: the case takes no more plain messages, whatever the hour.
        clock.advance(timedelta(hours=5))
        r = await post(intake, case)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "message_limit"
        assert "batasnya" in r.json()["error"]["message"] and "its limit of 5" in r.json()["error"]["message"]
        assert "Retry-After" not in r.headers
        assert await stored(intake) == 6

        # Disputing the answer is still taken: the agency's answers bound it.
        tid = case["tracking_id"]
        await publish_and_wait(intake, status_changed(tid, 1, Status.answered, Status.in_progress, agency_code="A1"))
        r = await post(intake, case, content="Jawaban belum menyelesaikan.", disputes_answer=True)
        assert r.status_code == 201, r.text
        view = (await intake.client.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": case["receipt"]})).json()
        assert view["messages_total"] == 6 and view["messages_next"] is None
        assert [m["disputes_answer"] for m in view["messages"]] == [False] * 5 + [True]


async def test_long_threads_page(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    clock = ManualClock()
    async with limited_intake(
        database,
        natsd,
        tmp_path,
        clock=clock,
        reporter_messages_per_case=0,
        reporter_messages_per_hour=0,
        rate_limit_enabled=False,
    ) as intake:
        case = await intake.submit()
        tid, headers = case["tracking_id"], {"X-Receipt": case["receipt"]}
        count = THREAD_TAIL + 7
        for i in range(count):
            assert (await post(intake, case, content=f"pesan {i}")).status_code == 201
            clock.advance(timedelta(seconds=1))

        view = (await intake.client.get(f"/api/v1/complaints/{tid}", headers=headers)).json()
        assert [m["content"] for m in view["messages"]] == [f"pesan {i}" for i in range(7, count)]
        assert view["messages_total"] == count and view["messages_next"] == THREAD_TAIL

        r = await intake.client.get(
            f"/api/v1/complaints/{tid}/messages", params={"offset": view["messages_next"], "limit": 5}, headers=headers
        )
        assert r.status_code == 200, r.text
        assert [m["content"] for m in r.json()["items"]] == [f"pesan {i}" for i in (6, 5, 4, 3, 2)]
        assert r.json()["next_offset"] == THREAD_TAIL + 5
        r = await intake.client.get(
            f"/api/v1/complaints/{tid}/messages", params={"offset": r.json()["next_offset"]}, headers=headers
        )
        assert [m["content"] for m in r.json()["items"]] == ["pesan 1", "pesan 0"]
        assert r.json()["next_offset"] is None

        # The list needs the receipt like the view; bad paging is a 422.
        r = await intake.client.get(f"/api/v1/complaints/{tid}/messages", headers={"X-Receipt": "WRONG"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await intake.client.get(f"/api/v1/complaints/{tid}/messages", params={"limit": 0}, headers=headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_the_limits_hold_across_replicas(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    limits: dict[str, Any] = {"reporter_messages_per_hour": 3, "rate_limit_enabled": False}
    async with (
        limited_intake(database, natsd, tmp_path / "a", **limits) as one,
        limited_intake(database, natsd, tmp_path / "b", **limits) as two,
    ):
        case = await one.submit()
        answers = await asyncio.gather(*(post(replica, case) for replica in (one, two) * 4))
        codes = sorted(r.status_code for r in answers)
        assert set(codes) <= {201, 429, 503}, [r.text for r in answers]
        assert await stored(one) == codes.count(201) <= 3
        if database.schema is not None:  # PostgreSQL: the case's row lock serializes the posts, none fails
            assert codes == [201] * 3 + [429] * 5
