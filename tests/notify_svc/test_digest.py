"""The daily digest: at the digest hour of each officer's timezone, on working days, a node's liaison officers get its
overdue and due-soon cases (from sla.clocks_changed), once per node and day, across a restart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from notify_svc.digest.job import DigestJob
from notify_svc.models import Digest
from shared.domain import ClockKind, ClockState
from tests.notify_svc.conftest import SmtpServer, body_of, new_tid, running_clock, start_notify
from tests.support.apps import eventually
from tests.support.clock import ManualClock

R, F, V = ClockKind.resolution, ClockKind.first_response, ClockKind.verification


def end_of_day_utc(day: int, offset_hours: int) -> datetime:
    """The end (23:59:59.999999 local) of `day` March 2026 in a zone `offset_hours` ahead of UTC."""
    return datetime(2026, 3, day, 23, 59, 59, 999999, tzinfo=UTC) - timedelta(hours=offset_hours)


async def test_the_daily_digest(database: Any, natsd: Any, tmp_path: Path, smtp_server: SmtpServer) -> None:
    clock = ManualClock(datetime(2026, 3, 9, 0, 30, tzinfo=UTC))  # Monday 07:30 WIB, 09:30 WIT
    settings = {"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "digest_hour": 8}
    tids = {name: new_tid() for name in ("over", "soon", "later", "paused", "met", "stale", "papua")}
    async with start_notify(database, natsd, tmp_path, clock=clock, **settings) as svc:
        sby = "LAPAS-SBY"
        await svc.clocks(
            tids["over"], 3, running_clock(V, None, end_of_day_utc(2, 7)), running_clock(R, sby, end_of_day_utc(6, 7))
        )
        await svc.clocks(tids["soon"], 1, running_clock(F, sby, end_of_day_utc(10, 7)))
        await svc.clocks(tids["later"], 1, running_clock(R, sby, end_of_day_utc(12, 7)))
        await svc.clocks(tids["paused"], 1, running_clock(R, sby, end_of_day_utc(5, 7), paused=True))
        stopped = running_clock(F, sby, end_of_day_utc(6, 7), state=ClockState.met, stopped_at=end_of_day_utc(4, 7))
        await svc.clocks(tids["met"], 1, stopped)
        await svc.clocks(tids["stale"], 2, running_clock(R, sby, end_of_day_utc(11, 7)))
        await svc.clocks(tids["stale"], 1, running_clock(R, sby, end_of_day_utc(2, 7)))  # older: ignored
        await svc.clocks(tids["papua"], 1, running_clock(R, "RSUD-JPR", end_of_day_utc(6, 9)))
        await svc.wait_drained()
        await svc.node(
            sby,
            {"name": "Budi", "email": "budi@lapas.example"},
            {"name": "Meja Layanan", "email": "ops@lapas.example", "language": "en"},
        )
        await svc.node("RSUD-JPR", {"name": "Yohanes", "email": "yohanes@rsud.example"}, timezone="Asia/Jayapura")

        # 09:30 in Jayapura: its digest; 07:30 in Surabaya: not yet.
        [papua] = await eventually(lambda: _mails(smtp_server, "yohanes@rsud.example", 1))
        assert papua["Subject"] == "[Simpul] Ringkasan harian RSUD-JPR 9 Maret 2026: 1 terlambat, 0 segera jatuh tempo"
        assert f"- {tids['papua']}: penyelesaian, batas 6 Maret 2026, 23.59 WIT" in body_of(papua)
        assert await _digests(svc) == [("RSUD-JPR", "Asia/Jayapura", "2026-03-09", 1, 0)]

        clock.set(datetime(2026, 3, 9, 1, 0, tzinfo=UTC))  # 08:00 WIB
        [budi] = await eventually(lambda: _mails(smtp_server, "budi@lapas.example", 1))
        [ops] = await eventually(lambda: _mails(smtp_server, "ops@lapas.example", 1))
        assert budi["Subject"] == "[Simpul] Ringkasan harian LAPAS-SBY 9 Maret 2026: 1 terlambat, 2 segera jatuh tempo"
        overdue, due_soon = body_of(budi).split("Jatuh tempo dalam 2 hari kerja (2):")
        assert f"- {tids['over']}: penyelesaian, batas 6 Maret 2026, 23.59 WIB" in overdue
        assert f"- {tids['soon']}: respons pertama, batas 10 Maret 2026, 23.59 WIB" in due_soon
        assert f"- {tids['stale']}: penyelesaian, batas 11 Maret 2026, 23.59 WIB" in due_soon
        for name in ("later", "paused", "met", "papua"):
            assert tids[name] not in body_of(budi), name
        assert "verifikasi" not in body_of(budi), "the hub's own clocks are not the node's"
        assert "http://127.0.0.1:8000/api/v1/agency/complaints" in body_of(budi)
        assert ops["Subject"] == "[Simpul] Daily digest LAPAS-SBY 9 March 2026: 1 overdue, 2 due soon"
        assert f"- {tids['soon']}: first response, due 10 March 2026, 23:59 WIB" in body_of(ops)
        log = await svc.wait_deliveries(None, 3, template="digest", status="sent")
        assert {(d["recipient_kind"], d["tracking_id"], d["event_type"]) for d in log} == {
            ("liaison", None, "notify.digest")
        }

    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))  # 16:00 WIB, the same day, after a restart
    async with start_notify(database, natsd, tmp_path, clock=clock, **settings) as svc:
        job: DigestJob = svc.runtime.context.digests
        assert await job.run_once(svc.runtime, clock.now()) == 0, "made already today: nothing again"
        async with svc.runtime.db.session() as session, session.begin():  # as a second replica would try
            assert await job.make(session, "LAPAS-SBY", "Asia/Jakarta", date(2026, 3, 9), clock.now()) == 0
        assert len(smtp_server.inbox.received) == 3

        assert await job.run_once(svc.runtime, datetime(2026, 3, 14, 3, 0, tzinfo=UTC)) == 0, "no digest on Saturday"

        clock.set(datetime(2026, 3, 10, 1, 0, tzinfo=UTC))  # Tuesday 08:00 WIB, 10:00 WIT
        await eventually(lambda: _mails(smtp_server, "budi@lapas.example", 2))
        await eventually(lambda: _mails(smtp_server, "yohanes@rsud.example", 2))
        await svc.wait_deliveries(None, 6, template="digest", status="sent")
        assert len(await _digests(svc)) == 4


async def _mails(smtp_server: SmtpServer, address: str, n: int) -> list[EmailMessage] | None:
    found = [m for rcpts, m in smtp_server.inbox.received if rcpts == [address]]
    return found if len(found) == n else None


async def _digests(svc: Any) -> list[tuple[str, str, str, int, int]]:
    async with svc.runtime.db.session() as session:
        rows = (await session.execute(select(Digest).order_by(Digest.day, Digest.node_code))).scalars()
        return [(d.node_code, d.timezone, d.day.isoformat(), d.overdue, d.due_soon) for d in rows]
