"""Two intake replicas applying status changes to one complaint at once: the newer one wins, whichever commits first.

On PostgreSQL the handler locks the complaint's row before it compares versions; without the lock, a replica that read
the row before the other committed a newer status would write its older one over it. SQLite has no row locks (one
writer at a time), so this is a PostgreSQL test.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from intake_svc.complaints.handlers import on_status_changed
from intake_svc.models import Complaint
from shared.domain import Status
from shared.events import new_event
from shared.events.contracts import ComplaintStatusChanged
from tests.intake_svc.conftest import Intake, status_changed
from tests.support.apps import eventually


async def test_an_older_status_waits_for_a_newer_one_and_does_not_overwrite_it(intake: Intake, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite lets one writer at a time")
    tid = (await intake.submit())["tracking_id"]
    db, ctx = intake.runtime.db, intake.runtime.context
    newer = status_changed(tid, 5, Status.in_progress, Status.dispositioned)
    older = status_changed(tid, 4, Status.dispositioned, Status.submitted)
    assert isinstance(newer, ComplaintStatusChanged) and isinstance(older, ComplaintStatusChanged)
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def apply_older() -> None:
        async with db.session() as session, session.begin():
            started.set_result(int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()))
            await on_status_changed(session, new_event(older, source="routing"), older, ctx)

    async with db.session() as first, first.begin():
        await on_status_changed(first, new_event(newer, source="routing"), newer, ctx)
        await first.flush()
        second = asyncio.create_task(apply_older())
        pid = await started

        async def waiting_on_a_lock() -> bool:
            async with db.engine.connect() as conn:
                state = await conn.execute(
                    text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
                return state.scalar() == "Lock"

        await eventually(waiting_on_a_lock)
    await second

    async with db.session() as session:
        complaint = await session.get(Complaint, tid)
        assert complaint is not None
        assert (complaint.case_version, complaint.status) == (5, Status.in_progress.value)
