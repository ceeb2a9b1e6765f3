"""Who notify texts, and how often (against SMS pumping): only Indonesian mobiles and the countries named; past the
daily limit per destination a message is skipped (daily_limit), counted under a keyed hash, never the plain number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from notify_svc.models import DestinationCount
from tests.notify_svc.conftest import Notify, SmsGateway, SmtpServer, gateway_settings, new_tid, start_notify
from tests.support.clock import ManualClock


async def counts(svc: Notify) -> list[tuple[str, int]]:
    async with svc.runtime.db.session() as session:
        rows = (await session.execute(select(DestinationCount.destination_hash, DestinationCount.sent))).all()
    return [(h, s) for h, s in rows]


async def test_sms_to_one_number_stop_at_the_daily_limit(
    database: Any, natsd: Any, tmp_path: Path, sms_gateway: SmsGateway
) -> None:
    sms_gateway.script = [503]  # the first attempt fails: its retry is not counted again
    settings = {**gateway_settings(sms_gateway), "reporter_sms_per_day": 2}
    async with start_notify(database, natsd, tmp_path, **settings) as svc:
        first, second, third, other = new_tid(), new_tid(), new_tid(), new_tid()
        await svc.contact(first, email_address=None, phone="+62 812 5555 0001")
        [sent] = await svc.wait_deliveries(first, 1, status="sent", channel="sms")
        assert sent["attempts"] == 2
        await svc.contact(second, email_address=None, phone="0812-5555-0001")  # the same number, written otherwise
        await svc.wait_deliveries(second, 1, status="sent", channel="sms")
        await svc.contact(third, email_address=None, phone="62 812 5555 0001")
        [skipped] = await svc.wait_deliveries(third, 1, status="skipped")
        assert skipped["reason"] == "daily_limit"
        await svc.contact(other, email_address=None, phone="+62 812 5555 0002")
        await svc.wait_deliveries(other, 1, status="sent", channel="sms")

        assert [len(sms_gateway.texts_for(t)) for t in (first, second, third, other)] == [1, 1, 0, 1]
        stored = await counts(svc)
        assert sorted(s for _, s in stored) == [1, 2]
        for h, _ in stored:
            assert len(h) == 64 and "5555" not in h


async def test_emails_to_one_address_stop_at_the_daily_limit_until_the_next_day(
    database: Any, natsd: Any, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    clock = ManualClock(datetime(2026, 3, 9, 3, 0, tzinfo=UTC))  # Monday 10:00 WIB
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "reporter_emails_per_day": 1}
    async with start_notify(database, natsd, tmp_path, clock=clock, **smtp) as svc:
        first, second, another = new_tid(), new_tid(), new_tid()
        await svc.contact(first, email_address="dewi@example.test")
        await svc.wait_deliveries(first, 1, status="sent", channel="email")
        await svc.contact(second, email_address="Dewi@Example.test")  # the same address, in other letters
        [skipped] = await svc.wait_deliveries(second, 1, status="skipped")
        assert skipped["reason"] == "daily_limit"
        await svc.contact(another, email_address="budi@example.test")
        await svc.wait_deliveries(another, 1, status="sent", channel="email")

        clock.advance(timedelta(hours=14))  # Tuesday 00:00 WIB: a new day
        third = new_tid()
        await svc.contact(third, email_address="dewi@example.test")
        await svc.wait_deliveries(third, 1, status="sent", channel="email")

        assert [len(smtp_server.inbox.for_tid(t)) for t in (first, second, third)] == [1, 0, 1]
        stored = await counts(svc)
        assert all("dewi" not in h and "budi" not in h for h, _ in stored)


async def test_only_indonesian_mobiles_and_the_countries_named_are_texted(
    database: Any, natsd: Any, tmp_path: Path, sms_gateway: SmsGateway
) -> None:
    settings = {**gateway_settings(sms_gateway), "phone_countries": "60"}
    async with start_notify(database, natsd, tmp_path, **settings) as svc:
        landline, abroad, named = new_tid(), new_tid(), new_tid()
        await svc.contact(landline, email_address=None, phone="+62 21 555 1234")
        await svc.contact(abroad, email_address=None, phone="+44 7700 900123")
        await svc.contact(named, email_address=None, phone="+60 12 345 6789")
        for tid in (landline, abroad):
            [skipped] = await svc.wait_deliveries(tid, 1, status="skipped")
            assert skipped["reason"] == "invalid_phone"
        await svc.wait_deliveries(named, 1, status="sent", channel="sms")
        assert [len(sms_gateway.texts_for(t)) for t in (landline, abroad, named)] == [0, 0, 1]
