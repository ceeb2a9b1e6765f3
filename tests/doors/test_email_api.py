"""How the door reads the API's answers: a key still in use (the same mail delivered twice at once) is try-later, a
key reused with another body is a refusal, and the mail is answered accordingly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from email.policy import SMTP

import httpx
import pytest

from services.doors.email.api import HubApi, Refused, TryLater
from services.doors.email.door import EmailDoor
from services.doors.email.settings import EmailDoorSettings
from services.doors.email.smtp import reply_line

Handler = Callable[[httpx.Request], httpx.Response]


def error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": code, "details": {}}})


def mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Siti <siti@citizen.example>"
    msg["To"] = "lapor@hub.example"
    msg["Subject"] = "Jalan rusak"
    msg["Message-ID"] = "<k1@citizen.example>"
    msg.set_content("Isi.")
    return msg.as_bytes(policy=SMTP)


@pytest.fixture
async def door_with() -> AsyncIterator[Callable[[Handler], EmailDoor]]:
    apis: list[HubApi] = []
    settings = EmailDoorSettings(api_key="sk_channel_test", key_secret="s", addresses="lapor@hub.example")

    def make(handler: Handler) -> EmailDoor:
        api = HubApi("http://hub.test", "sk_channel_test", 5, transport=httpx.MockTransport(handler))
        apis.append(api)
        return EmailDoor(settings, api)

    yield make
    for api in apis:
        await api.aclose()


async def test_a_key_still_in_use_is_try_later(door_with: Callable[[Handler], EmailDoor]) -> None:
    door = door_with(lambda request: error(409, "idempotency_key_in_use"))
    with pytest.raises(TryLater, match="409 idempotency_key_in_use"):
        await door.api.submit({"title": "x"}, "email:k")
    outcome = await door.receive(mail())
    assert outcome.kind == "try_later" and not outcome.accepted
    assert reply_line(outcome).startswith("451 4.3.0")


async def test_a_key_reused_with_another_body_stands_as_the_first(door_with: Callable[[Handler], EmailDoor]) -> None:
    door = door_with(lambda request: error(409, "idempotency_key_mismatch"))
    assert await door.api.submit({"title": "x"}, "email:k") == Refused(409, "idempotency_key_mismatch")
    outcome = await door.receive(mail())
    assert outcome.kind == "duplicate" and outcome.accepted


async def test_another_conflict_is_a_refusal(door_with: Callable[[Handler], EmailDoor]) -> None:
    door = door_with(lambda request: error(422, "validation_failed"))
    outcome = await door.receive(mail())
    assert outcome.kind == "refused"
    assert reply_line(outcome).startswith("554 ")
