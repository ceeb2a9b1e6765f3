"""STARTTLS against a real aiosmtpd server that offers it (and refuses mail without it), with a certificate made
here."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.ports import free_port
from tests.notify_svc.conftest import SmtpInbox, new_tid, start_notify
from tests.support.apps import eventually


@dataclass
class TlsSmtpServer:
    inbox: SmtpInbox
    port: int
    cert_file: Path
    sessions_over_tls: list[bool]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simpul test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp.crt", directory / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class RecordingInbox(SmtpInbox):
    def __init__(self, sessions_over_tls: list[bool]) -> None:
        super().__init__()
        self.sessions_over_tls = sessions_over_tls

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sessions_over_tls.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


class StarttlsController(Controller):
    def __init__(self, handler: Any, port: int, context: ssl.SSLContext) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=port)
        self.context = context

    def factory(self) -> SMTP:
        return SMTP(self.handler, tls_context=self.context, require_starttls=True)


@pytest.fixture
def tls_smtp_server(tmp_path: Path) -> Iterator[TlsSmtpServer]:
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    sessions: list[bool] = []
    inbox = RecordingInbox(sessions)
    port = free_port()
    controller = StarttlsController(inbox, port, context)
    controller.start()
    try:
        yield TlsSmtpServer(inbox=inbox, port=port, cert_file=cert_file, sessions_over_tls=sessions)
    finally:
        controller.stop()


@pytest.mark.parametrize("trust", ["ca_file", "no_verify"])
async def test_starttls_is_used_whenever_the_server_offers_it(
    database: Any, natsd: Any, tmp_path: Path, tls_smtp_server: TlsSmtpServer, trust: str
) -> None:
    tls: dict[str, Any] = (
        {"smtp_tls_ca_file": tls_smtp_server.cert_file} if trust == "ca_file" else {"smtp_tls_verify": False}
    )
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": tls_smtp_server.port, **tls}
    async with start_notify(database, natsd, tmp_path, **smtp) as svc:
        assert not svc.settings.smtp_starttls, "not required: offered is enough"
        tid = new_tid()
        await svc.contact(tid)
        await svc.wait_deliveries(tid, 1, template="confirmation", status="sent", attempts=1)
    assert len(tls_smtp_server.inbox.for_tid(tid)) == 1
    assert tls_smtp_server.sessions_over_tls == [True]


async def test_a_certificate_that_cannot_be_verified_is_not_sent_to(
    database: Any, natsd: Any, tmp_path: Path, tls_smtp_server: TlsSmtpServer
) -> None:
    smtp: dict[str, Any] = {"smtp_host": "127.0.0.1", "smtp_port": tls_smtp_server.port}
    async with start_notify(database, natsd, tmp_path, **smtp) as svc:
        tid = new_tid()
        await svc.contact(tid)

        async def tried() -> bool:
            [entry] = await svc.wait_deliveries(tid, 1, template="confirmation")
            return entry["attempts"] >= 1 and "CERTIFICATE_VERIFY_FAILED" in (entry["last_error"] or "")

        await eventually(tried)
    assert tls_smtp_server.inbox.received == [], "verification is on by default"
