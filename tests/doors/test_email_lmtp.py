"""The door as an LMTP server (an MTA's LMTP transport): one answer per recipient, 4xx while the API cannot be
reached (nothing listens where it should), and 250 for mail it ignores without asking the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.doors.email.api import HubApi
from services.doors.email.door import EmailDoor
from services.doors.email.settings import EmailDoorSettings
from services.doors.email.smtp import UNKNOWN_RECIPIENT, start_smtp
from services.ports import free_port


@pytest.fixture
async def lmtp_port() -> AsyncIterator[int]:
    settings = EmailDoorSettings(
        api_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there: the API is down
        api_key="sk_channel_test",
        key_secret="a-key-secret-for-tests",
        addresses="lapor@hub.example, pengaduan@hub.example",
        smtp_mode="lmtp",
        smtp_port=free_port(),
        api_timeout=5,
    )
    api = HubApi(settings.api_url, settings.api_key.get_secret_value(), settings.api_timeout)
    server = await start_smtp(settings, EmailDoor(settings, api))
    try:
        yield settings.smtp_port
    finally:
        server.close()
        await server.wait_closed()
        await api.aclose()


async def transaction(
    port: int, mail: bytes, recipients: list[str], refused: tuple[str, ...] = ()
) -> tuple[list[str], list[str]]:
    """LHLO, MAIL, one RCPT each, DATA: the answers to the RCPTs of `refused`, and the lines that answer the mail's
    end (one per recipient taken)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> list[str]:
        lines = []
        while True:
            line = (await reader.readline()).decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    async def command(text: str) -> list[str]:
        writer.write(text.encode() + b"\r\n")
        await writer.drain()
        return await reply()

    try:
        assert (await reply())[0].startswith("220")
        assert (await command("LHLO mta.example"))[-1].startswith("250")
        assert (await command("MAIL FROM:<siti@citizen.example>"))[0].startswith("250")
        for r in recipients:
            assert (await command(f"RCPT TO:<{r}>"))[0].startswith("250 2.1.5")
        refusals = [(await command(f"RCPT TO:<{r}>"))[0] for r in refused]
        assert (await command("DATA"))[0].startswith("354")
        writer.write(mail.replace(b"\n", b"\r\n") + b"\r\n.\r\n")
        await writer.drain()
        return refusals, [(await reply())[0] for _ in recipients]
    finally:
        writer.close()


MAIL = (
    b"From: Siti <siti@citizen.example>\nTo: lapor@hub.example\nSubject: Jalan rusak\n"
    b"Message-ID: <l1@citizen.example>\n\nIsi.\n"
)


async def test_api_down_each_recipient_is_told_to_try_later(lmtp_port: int) -> None:
    _, answers = await transaction(lmtp_port, MAIL, ["lapor@hub.example", "pengaduan@hub.example"])
    assert answers == ["451 4.3.0 The hub cannot take mail now; try again later"] * 2


async def test_an_auto_reply_is_ignored_for_each_recipient(lmtp_port: int) -> None:
    auto = MAIL.replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:")
    _, answers = await transaction(lmtp_port, auto, ["lapor@hub.example", "pengaduan@hub.example"])
    assert answers == ["250 2.0.0 Ignored (auto_submitted)"] * 2


async def test_only_the_hub_s_addresses_and_their_case_addresses_are_taken(lmtp_port: int) -> None:
    """No relay: a recipient elsewhere, or another mailbox of the hub's domain, is refused at RCPT; the mail is
    answered once for each recipient taken."""
    auto = MAIL.replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:")
    taken = ["LAPOR@hub.example", "lapor+SPL-7K3F9Q2XAB.abcdefghij@hub.example"]
    others = [
        "someone@elsewhere.example",
        "admin@hub.example",
        "lapor@elsewhere.example",
        "lapor+SPL-7K3F9Q2XAB.abcdefghij@elsewhere.example",
        "other+SPL-7K3F9Q2XAB.abcdefghij@hub.example",
    ]
    refusals, answers = await transaction(lmtp_port, auto, taken, tuple(others))
    assert refusals == [UNKNOWN_RECIPIENT] * len(others)
    assert refusals[0].startswith("550 5.1.1 ")
    assert answers == ["250 2.0.0 Ignored (auto_submitted)"] * len(taken)
