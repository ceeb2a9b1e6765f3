"""The email door polling a mailbox: a real dovecot (Debian's dovecot-imapd) on loopback, the door run alone as
`python -m services.doors.email` against a real hub. Skipped, saying so, where dovecot is not installed."""

from __future__ import annotations

import imaplib
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from email.policy import SMTP
from pathlib import Path

import pytest

from services.ports import free_port
from services.secrets_store import stored_door_key
from tests.e2e.dovecot import DOVECOT, Dovecot, running_dovecot
from tests.e2e.email_support import HUB_FROM, cases_titled, citizen_mail
from tests.e2e.hub import Api, Hub, running_hub, stop_process, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(DOVECOT is None, reason="dovecot is not installed (apt-get install dovecot-imapd)"),
]


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    # Not under pytest's temporary folder: that is its owner's alone, and dovecot's own users must read the config.
    with tempfile.TemporaryDirectory(prefix="simpul-dovecot-") as directory, running_dovecot(Path(directory)) as d:
        yield d


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with running_hub(tmp_path_factory.mktemp("imap-hub"), env={"SIMPUL_NOTIFY_MAIL_FROM": HUB_FROM}) as h:
        yield h


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[Api]:
    a = Api(hub)
    yield a
    a.client.close()


@pytest.fixture(scope="module")
def door(hub: Hub, dovecot: Dovecot) -> Iterator[subprocess.Popen[bytes]]:
    """The door alone, from its environment: IMAP only, with the channel key `simpul up` issued for its own door."""
    key = stored_door_key(hub.data_dir, "email")
    assert key, "simpul up keeps the email door's channel key in the data folder"
    env = {
        "SIMPUL_EMAIL_API_URL": hub.base_url,
        "SIMPUL_EMAIL_API_KEY": key,
        "SIMPUL_EMAIL_PORT": str(free_port()),
        "SIMPUL_EMAIL_SMTP_MODE": "off",
        "SIMPUL_EMAIL_IMAP_HOST": "127.0.0.1",
        "SIMPUL_EMAIL_IMAP_PORT": str(dovecot.port),
        "SIMPUL_EMAIL_IMAP_TLS": "false",
        "SIMPUL_EMAIL_IMAP_USERNAME": dovecot.user,
        "SIMPUL_EMAIL_IMAP_PASSWORD": dovecot.password,
        "SIMPUL_EMAIL_IMAP_POLL_SECONDS": "0.3",
        "SIMPUL_EMAIL_HUB_ADDRESSES": "no-reply@hub.example",
        "SIMPUL_EMAIL_KEY_SECRET": "the-imap-door-s-key-secret",
        "PATH": "/usr/bin:/bin",
    }
    log = (hub.data_dir / "imap-door.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "services.doors.email"], env=env, stdout=log, stderr=log)
    try:
        yield proc
    finally:
        stop_process(proc, signal.SIGTERM)
        log.close()


def mailbox(dovecot: Dovecot) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(dovecot.user, dovecot.password)
    return client


def flags_of(dovecot: Dovecot, subject: str) -> str | None:
    client = mailbox(dovecot)
    try:
        client.select("INBOX")
        _, found = client.search(None, "SUBJECT", f'"{subject}"')
        numbers = found[0].split()
        if not numbers:
            return None
        _, data = client.fetch(numbers[0], "(FLAGS)")
        return data[0].decode() if isinstance(data[0], bytes) else str(data[0])
    finally:
        client.logout()


def test_mail_in_the_mailbox_becomes_a_complaint_and_is_marked_seen(
    api: Api, dovecot: Dovecot, door: subprocess.Popen[bytes]
) -> None:
    subject = "Trotoar rusak (lewat kotak surat IMAP)"
    msg = citizen_mail("Wati <wati@citizen.example>", subject, "Trotoar di Jl. Darmo rusak parah.")
    ignored = citizen_mail(
        "Wati <wati@citizen.example>", "Sedang cuti (IMAP)", "Saya cuti.", headers={"Auto-Submitted": "auto-replied"}
    )
    client = mailbox(dovecot)
    try:
        for m in (msg, ignored):
            assert client.append("INBOX", None, None, m.as_bytes(policy=SMTP))[0] == "OK"
    finally:
        client.logout()

    [case] = wait_for(lambda: cases_titled(api, subject), timeout=60)
    assert case["channel"] == "email" and case["status"] in ("submitted", "dispositioned")
    full = api.ok(api.client.get(f"/api/v1/hub/complaints/{case['tracking_id']}", headers=api.admin), 200)
    assert full["content"] == "Trotoar di Jl. Darmo rusak parah."
    wait_for(lambda: "\\Seen" in (flags_of(dovecot, subject) or ""))
    wait_for(lambda: "\\Seen" in (flags_of(dovecot, "Sedang cuti (IMAP)") or ""))
    assert cases_titled(api, "Sedang cuti (IMAP)") == []
    assert door.poll() is None, "the door keeps polling"

    # Seen mail is not taken again on the next rounds.
    again = citizen_mail("Wati <wati@citizen.example>", "Penanda putaran berikutnya (IMAP)", "Putaran berikutnya.")
    client = mailbox(dovecot)
    try:
        client.append("INBOX", None, None, again.as_bytes(policy=SMTP))
    finally:
        client.logout()
    wait_for(lambda: cases_titled(api, "Penanda putaran berikutnya (IMAP)"), timeout=60)
    assert len(cases_titled(api, subject)) == 1


def test_mail_a_person_read_before_the_poll_is_still_taken(
    api: Api, dovecot: Dovecot, door: subprocess.Popen[bytes]
) -> None:
    subject = "Lampu taman mati (sudah dibuka petugas IMAP)"
    msg = citizen_mail("Wati <wati@citizen.example>", subject, "Lampu taman mati sejak Senin.")
    client = mailbox(dovecot)
    try:
        assert client.append("INBOX", r"(\Seen)", None, msg.as_bytes(policy=SMTP))[0] == "OK"
    finally:
        client.logout()
    [case] = wait_for(lambda: cases_titled(api, subject), timeout=60)
    assert case["channel"] == "email"
    wait_for(lambda: "$SimpulDone" in (flags_of(dovecot, subject) or ""))
