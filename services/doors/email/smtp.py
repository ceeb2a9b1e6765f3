"""The door as an SMTP or LMTP server (aiosmtpd): the hub's MX, or an MTA's LMTP transport, delivers here. A mail
is answered 250 only once the API has taken it; 451 when the API cannot take it now, so that the sending MTA keeps
it and tries again; 552 above the size limit. Only the hub's intake addresses (and their case reply addresses) are
taken as recipients: the door is no relay."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.doors.email.door import EmailDoor, Outcome
from services.doors.email.settings import EmailDoorSettings
from shared.reply_address import has_case_tag

UNKNOWN_RECIPIENT = "550 5.1.1 No such mailbox here: this server takes reports for the hub's own addresses only"


def takes_recipient(address: str, intake: Collection[str]) -> bool:
    """Whether `address` is one of the hub's intake addresses or a case reply address made from one
    (`lapor+<tracking_id>.<token>@hub.example`; its token is checked with the mail)."""
    address = address.strip().lower()
    if address in intake:
        return True
    local, _, domain = address.rpartition("@")
    return has_case_tag(address) and f"{local.partition('+')[0]}@{domain}" in intake


def reply_line(outcome: Outcome) -> str:
    if outcome.kind == "try_later":
        return "451 4.3.0 The hub cannot take mail now; try again later"
    if outcome.kind == "refused":
        return "554 5.6.0 The hub could not take this mail as a report"
    if outcome.kind == "ignored":
        return f"250 2.0.0 Ignored ({outcome.detail})"
    return f"250 2.0.0 Accepted {outcome.tracking_id or ''}".rstrip()


class DoorHandler:
    """aiosmtpd's handler: each mail goes to the door; the answer waits for the API's."""

    def __init__(self, door: EmailDoor, lmtp: bool, intake: Collection[str]):
        self.door = door
        self.lmtp = lmtp
        self.intake = intake

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not takes_recipient(address, self.intake):
            return UNKNOWN_RECIPIENT
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        outcome = await self.door.receive(content, envelope.mail_from or "", list(envelope.rcpt_tos))
        line = reply_line(outcome)
        # LMTP answers once for every recipient; the mail is one report whoever it went to.
        return "\r\n".join([line] * len(envelope.rcpt_tos)) if self.lmtp and envelope.rcpt_tos else line


async def start_smtp(settings: EmailDoorSettings, door: EmailDoor) -> asyncio.Server:
    """Listen on smtp_host:smtp_port, as an SMTP or an LMTP server (smtp_mode)."""
    lmtp = settings.smtp_mode == "lmtp"
    handler = DoorHandler(door, lmtp, settings.intake_addresses())
    protocol: type[SMTP] = LMTP if lmtp else SMTP
    options: dict[str, Any] = {
        "data_size_limit": settings.max_message_bytes,
        "enable_SMTPUTF8": True,
        "hostname": settings.smtp_hostname,
        "ident": "Simpul email door",
    }
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: protocol(handler, loop=loop, **options), host=settings.smtp_host, port=settings.smtp_port
    )
