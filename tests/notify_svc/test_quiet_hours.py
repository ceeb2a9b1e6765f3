"""Quiet hours: a message to a person that falls inside them waits until they end in the recipient's own timezone (the
reporter's from the case's region, an officer's as registered); a system's mailbox is not held back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from notify_svc.models import CaseState
from notify_svc.quiet_hours import QuietHours
from notify_svc.settings import NotifySettings
from tests.notify_svc.conftest import Notify, SmtpServer, new_tid, start_notify
from tests.support.apps import eventually
from tests.support.clock import ManualClock

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
NIGHT = QuietHours.parse("21:00-07:00")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_parsing_quiet_hours() -> None:
    assert QuietHours.parse("") is None and QuietHours.parse(None) is None
    assert QuietHours.parse(" 9:30 - 11:00 ") == QuietHours.parse("09:30-11:00")
    for bad in ("21:00", "21-07", "25:00-07:00", "21:00-07:60", "07:00-07:00"):
        with pytest.raises(ValueError, match="quiet hours|time of day"):
            QuietHours.parse(bad)
    with pytest.raises(ValidationError, match="quiet hours"):
        NotifySettings(quiet_hours="late")


@pytest.mark.parametrize(
    ("now", "timezone", "until"),
    [
        (utc(2026, 3, 10, 15, 30), WIB, utc(2026, 3, 11, 0, 0)),  # 22:30 WIB -> 07:00 WIB tomorrow
        (utc(2026, 3, 10, 15, 30), WITA, utc(2026, 3, 10, 23, 0)),  # 23:30 WITA -> 07:00 WITA tomorrow
        (utc(2026, 3, 10, 15, 30), WIT, utc(2026, 3, 10, 22, 0)),  # 00:30 WIT (already tomorrow) -> 07:00 WIT
        (utc(2026, 3, 10, 13, 59), WIB, None),  # 20:59 WIB
        (utc(2026, 3, 10, 14, 0), WIB, utc(2026, 3, 11, 0, 0)),  # 21:00 WIB: the start is quiet
        (utc(2026, 3, 11, 0, 0), WIB, None),  # 07:00 WIB: the end is not
        (utc(2026, 3, 10, 22, 59), WITA, utc(2026, 3, 10, 23, 0)),  # 06:59 WITA
    ],
)
def test_until_the_end_of_the_quiet_hours(now: datetime, timezone: str, until: datetime | None) -> None:
    assert NIGHT is not None and NIGHT.until(now, timezone) == until


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours.parse("12:00-13:00")
    assert lunch is not None
    assert lunch.until(utc(2026, 3, 10, 5, 30), WIB) == utc(2026, 3, 10, 6, 0)  # 12:30 WIB
    assert lunch.until(utc(2026, 3, 10, 6, 0), WIB) is None
    assert lunch.until(utc(2026, 3, 10, 4, 59), WIB) is None


async def test_messages_to_people_wait_for_the_end_of_their_quiet_hours(
    database: Any, natsd: Any, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    clock = ManualClock(utc(2026, 3, 10, 15, 30))  # Tuesday 22:30 WIB, 23:30 WITA; Wednesday 00:30 WIT
    settings = {"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "quiet_hours": "21:00-07:00"}
    async with start_notify(database, natsd, tmp_path, clock=clock, **settings) as svc:
        in_java, in_papua, unknown = new_tid(), new_tid(), new_tid()
        await svc.submitted(in_java, "3578")  # Surabaya
        await svc.submitted(in_papua, "9471")  # Jayapura
        await wait_timezones(svc, {in_java: WIB, in_papua: WIT})
        for tid in (in_java, in_papua, unknown):
            await svc.contact(tid, receipt=None)
        officers = await svc.node("RSUD-MKS", {"name": "Andi", "email": "andi@rsud.example"}, timezone="Asia/Makassar")
        officer = officers["andi@rsud.example"]
        system = await svc.recipient(role="coordinator", level=1, email="tiket@hub.example", is_system=True)
        await svc.publish_twice(svc.escalation_event(in_java, 1, "RSUD-MKS", "RSUD-MKS"))

        # A system's mailbox is not held back; people are, each until 07:00 in their own timezone.
        await eventually(lambda: _received(smtp_server, "tiket@hub.example", 1))
        # The outcome is recorded just after the hand-over to the SMTP server.
        [to_system] = await svc.wait_deliveries(
            in_java, 1, template="escalation", recipient_kind="coordinator", status="sent"
        )
        assert to_system["recipient_id"] == system["id"]
        expected = {in_java: "2026-03-11T00:00:00Z", in_papua: "2026-03-10T22:00:00Z", unknown: "2026-03-11T00:00:00Z"}
        for tid, until in expected.items():
            [held] = await svc.wait_deliveries(tid, 1, template="confirmation", status="pending", reason="quiet_hours")
            assert held["attempts"] == 0 and _same(held["next_attempt_at"], until)
        [to_officer] = await svc.wait_deliveries(
            in_java, 1, template="escalation", recipient_kind="liaison", reason="quiet_hours"
        )
        assert to_officer["recipient_id"] == officer["id"] and _same(to_officer["next_attempt_at"], "2026-03-10T23:00Z")
        assert [rcpts for rcpts, _ in smtp_server.inbox.received] == [["tiket@hub.example"]]

        clock.set(utc(2026, 3, 10, 22, 0))  # 07:00 WIT: the reporter in Papua
        await eventually(lambda: _received(smtp_server, "siti.aminah@example.test", 1))
        await svc.wait_deliveries(in_papua, 1, status="sent")
        for tid in (in_java, unknown):
            await svc.wait_deliveries(tid, 1, template="confirmation", status="pending", reason="quiet_hours")

        clock.set(utc(2026, 3, 10, 23, 0))  # 07:00 WITA: the officer in Makassar
        await eventually(lambda: _received(smtp_server, "andi@rsud.example", 1))

        clock.set(utc(2026, 3, 11, 0, 0))  # 07:00 WIB: the reporter in Java, and the one whose region is unknown
        await svc.wait_deliveries(in_java, 3, status="sent")
        await svc.wait_deliveries(unknown, 1, status="sent", attempts=1)
        assert len(smtp_server.inbox.received) == 5, "each held message sent once when its quiet hours ended"


async def wait_timezones(svc: Notify, expected: dict[str, str]) -> None:
    async def known() -> bool:
        async with svc.runtime.db.session() as session:
            rows = await session.execute(select(CaseState.tracking_id, CaseState.timezone))
            return expected.items() <= {tid: tz for tid, tz in rows}.items()

    await eventually(known)


def _same(iso: str, expected: str) -> bool:
    return datetime.fromisoformat(iso) == datetime.fromisoformat(expected)


async def _received(smtp_server: SmtpServer, address: str, n: int) -> bool:
    return sum(rcpts == [address] for rcpts, _ in smtp_server.inbox.received) == n
