"""What the email door's end-to-end tests share: notify's relay (an aiosmtpd sink), mail as a citizen writes it, an
MTA's way of offering mail to the door, and the hub's view of what arrived."""

from __future__ import annotations

import email
import email.policy
import io
import smtplib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from aiosmtpd.controller import Controller
from PIL import Image

from services.ports import free_port
from tests.e2e.hub import Api

HUB_FROM = "Simpul <no-reply@hub.example>"
REPLY_ADDRESS = "lapor@hub.example"


class Sink:
    """notify's SMTP relay: keeps every message it is handed."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in list(self.received) if address in str(m["To"])]

    def confirmation_to(self, address: str) -> EmailMessage | None:
        return next((m for m in self.to(address) if "telah diterima" in str(m["Subject"])), None)


def running_sink() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def citizen_mail(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = REPLY_ADDRESS,
    html: bool = False,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="citizen.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, subtype="html" if html else "plain")
    return msg


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def offer(port: int, msg: EmailMessage | bytes, mail_from: str, rcpt: str) -> tuple[int, str]:
    """One SMTP transaction; the door's answer to the DATA."""
    raw = msg if isinstance(msg, bytes) else msg.as_bytes(policy=email.policy.SMTP)
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        client.ehlo("mx.citizen.example")
        client.mail(mail_from)
        client.rcpt(rcpt)
        code, answer = client.data(raw)
    return code, answer.decode()


def deliver(port: int, msg: EmailMessage | bytes, mail_from: str, rcpt: str, attempts: int = 120) -> tuple[int, str]:
    """As an MTA delivers: offered again while the door answers 4xx (a bounded number of times)."""
    for _ in range(attempts):
        code, answer = offer(port, msg, mail_from, rcpt)
        if not 400 <= code < 500:
            return code, answer
        time.sleep(0.25)
    return code, answer


def accepted_tid(answer: tuple[int, str]) -> str:
    code, text = answer
    assert code == 250 and text.startswith("2.0.0 Accepted "), answer
    return text.split()[-1]


def cases_titled(api: Api, title: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = api.ok(api.client.get(f"/api/v1/hub/complaints?limit=200&offset={offset}", headers=api.admin), 200)
        found += [c for c in page["items"] if c["title"] == title]
        offset = page["next_offset"]
    return found
