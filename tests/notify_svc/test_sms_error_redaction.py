"""A gateway's error text may carry the number in any form; the delivery log never keeps one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notify_svc.sending.errors import redact
from tests.notify_svc.conftest import SmsGateway, gateway_settings, new_tid, start_notify


def local_form(to: str) -> str:
    """+6281277770000 as an Indonesian gateway might write it back: 0812-7777-0000."""
    national = "0" + to.removeprefix("+62")
    return f"{national[:4]}-{national[4:8]}-{national[8:]}"


async def test_a_gateway_that_echoes_the_number_in_its_own_form_leaves_no_number_in_the_log(
    database: Any, natsd: Any, tmp_path: Path, sms_gateway: SmsGateway
) -> None:
    sms_gateway.script = [400]
    sms_gateway.refusal = lambda to: f"number {local_form(to)} (or {to[1:]}) is not a subscriber"
    async with start_notify(database, natsd, tmp_path, **gateway_settings(sms_gateway)) as svc:
        tid = new_tid()
        await svc.contact(tid, email_address=None, phone="+62 812 7777 0000")
        [refused] = await svc.wait_deliveries(tid, 1, template="confirmation", status="failed", channel="sms")
        assert sms_gateway.calls[0].answered == 400
        error = refused["last_error"]
        assert "gateway answered 400" in error and "is not a subscriber" in error, error
        assert "7777" not in error and "0812" not in error and "62812" not in error, error
        assert error.count("[phone]") == 2, error


@pytest.mark.parametrize(
    "number",
    ["+62 812-7777-0000", "+6281277770000", "0812 7777 0000", "(0812) 7777.0000", "6281277770000", "021-555-1234"],
)
def test_every_written_form_of_a_phone_number_is_redacted(number: str) -> None:
    assert redact(f"refused {number}: unknown", []) == "refused [phone]: unknown"


@pytest.mark.parametrize(
    "text", ["gateway answered 503: busy", "at 2026-12-07 12:00:01", "request 4a8f0123-1234-5678 failed", "retry in 30"]
)
def test_other_numbers_in_an_error_are_kept(text: str) -> None:
    assert redact(text, []) == text
