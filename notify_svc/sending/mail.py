"""Building an RFC 5322 message and handing it over: to an SMTP server, or to a `.eml` file."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib

from notify_svc.sending.errors import PermanentFailure
from notify_svc.sending.files import write_atomically
from notify_svc.settings import NotifySettings


def message_id_for(notification_id: str, mail_from: str) -> str:
    """The Message-ID of a notification: the same on every attempt, so a resend after a crash is recognisable."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "simpul.localhost"
    return f"<{notification_id}@{domain}>"


@dataclass(frozen=True)
class Mail:
    """One email to send: what its message is made of."""

    notification_id: str
    mail_from: str
    to: str
    subject: str
    body: str
    language: str
    now: datetime
    reply_to: str | None = None
    """The case's reply address (a reporter's mail, when the hub takes replies by email)."""
    auto_submitted: str = "auto-generated"
    """RFC 3834: `auto-replied` for a message that answers one (the confirmation), else `auto-generated`."""

    def __repr__(self) -> str:
        return f"Mail(notification_id={self.notification_id!r}, <recipient and content hidden>)"

    def message(self) -> EmailMessage:
        msg = EmailMessage()
        msg["Message-ID"] = message_id_for(self.notification_id, self.mail_from)
        msg["Date"] = format_datetime(self.now)
        msg["From"] = self.mail_from
        msg["To"] = self.to
        msg["Subject"] = self.subject
        if self.reply_to:
            msg["Reply-To"] = self.reply_to
        # Other responders must not answer (RFC 3834), and the hub's own email door knows its mail by X-Loop.
        msg["Auto-Submitted"] = self.auto_submitted
        msg["X-Loop"] = parseaddr(self.mail_from)[1] or "simpul.localhost"
        msg.set_content(self.body)
        msg["Content-Language"] = self.language  # after set_content, which replaces every Content-* header
        return msg

    def as_bytes(self) -> bytes:
        """The message as it goes on the wire (RFC 5322 lines end in CRLF)."""
        return self.message().as_bytes(policy=email.policy.SMTP)


class Transport(Protocol):
    async def deliver(self, mail: Mail) -> None: ...


class SmtpTransport:
    def __init__(self, settings: NotifySettings):
        if not settings.smtp_host:
            raise ValueError("SmtpTransport needs smtp_host")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username
        self.password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        # None: STARTTLS whenever the server offers it; True: refuse a server that does not.
        self.start_tls: bool | None = True if settings.smtp_starttls else None
        self.validate_certs = settings.smtp_tls_verify
        self.cert_bundle = str(settings.smtp_tls_ca_file) if settings.smtp_tls_ca_file else None
        self.timeout = settings.smtp_timeout

    async def deliver(self, mail: Mail) -> None:
        try:
            await aiosmtplib.send(
                mail.message(),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.start_tls,
                validate_certs=self.validate_certs,
                cert_bundle=self.cert_bundle,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if exc.recipients and all(r.code >= 500 for r in exc.recipients):
                raise PermanentFailure(
                    "recipient refused: " + "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
                ) from exc
            raise


class FileTransport:
    """Writes `<notification_id>.eml` into a folder, atomically: a crash never leaves half a file."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def deliver(self, mail: Mail) -> None:
        # RFC 5322 lines end in CRLF.
        await write_atomically(self.directory, f"{mail.notification_id}.eml", mail.as_bytes())


def transport_for(settings: NotifySettings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings.resolved_mail_dir())
