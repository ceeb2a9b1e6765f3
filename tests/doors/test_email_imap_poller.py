"""The IMAP poller against a real dovecot, with a scripted door in place of the hub: what a person has read is still
taken, what the door dealt with carries its keyword and is not offered again, a mail that fails unexpectedly is
\\Flagged for a person while the round goes on, and mail the API cannot take now stays as it was."""

from __future__ import annotations

import imaplib
import tempfile
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from services.doors.email.door import EmailDoor, Outcome
from services.doors.email.imap import DONE, ImapPoller, takes_keywords
from services.doors.email.parsing import parse
from services.doors.email.settings import EmailDoorSettings
from tests.e2e.dovecot import DOVECOT, Dovecot, running_dovecot


class ScriptedDoor(EmailDoor):
    """Answers by the mail's subject: `boom` raises, `later` is try-later, anything else is taken."""

    def __init__(self) -> None:
        self.offered: list[str] = []

    async def receive(
        self, raw: bytes, envelope_sender: str | None = None, envelope_recipients: Sequence[str] = ()
    ) -> Outcome:
        subject = parse(raw).subject
        self.offered.append(subject)
        if subject.startswith("boom"):
            raise RuntimeError("something nobody expected")
        if subject.startswith("later"):
            return Outcome("try_later", "the API is down")
        return Outcome("complaint", "taken", "SPL-0000000001")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    with tempfile.TemporaryDirectory(prefix="simpul-dovecot-") as directory, running_dovecot(Path(directory)) as d:
        yield d


def mailbox(dovecot: Dovecot, name: str) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(dovecot.user, dovecot.password)
    client.create(name)
    client.select(name)
    return client


def put(client: imaplib.IMAP4, name: str, subject: str, flags: str | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = "Wati <wati@citizen.example>"
    msg["To"] = "lapor@hub.example"
    msg["Subject"] = subject
    msg.set_content("Isi.")
    assert client.append(name, flags, None, msg.as_bytes(policy=SMTP))[0] == "OK"


def flags(client: imaplib.IMAP4, subject: str) -> set[str]:
    client.noop()
    _, found = client.search(None, "SUBJECT", f'"{subject}"')
    [number] = found[0].split()
    _, data = client.fetch(number, "(FLAGS)")
    text = data[0].decode() if isinstance(data[0], bytes) else str(data[0])
    return set(text.partition("FLAGS (")[2].partition(")")[0].split()) - {"\\Recent"}


def poller(dovecot: Dovecot, name: str, door: EmailDoor) -> ImapPoller:
    settings = EmailDoorSettings(
        api_key="sk_channel_test",
        key_secret="s",
        smtp_mode="off",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_tls=False,
        imap_username=dovecot.user,
        imap_password=dovecot.password,
        imap_mailbox=name,
    )
    return ImapPoller(settings, door)


async def test_read_mail_is_taken_and_a_failing_mail_is_flagged_while_the_round_goes_on(dovecot: Dovecot) -> None:
    name = "Uji-gagal"
    client = mailbox(dovecot, name)
    try:
        put(client, name, "dibaca petugas", r"(\Seen)")
        put(client, name, "boom: tidak terbaca")
        put(client, name, "sesudahnya")
        door = ScriptedDoor()
        assert await poller(dovecot, name, door).poll_once() == 3
        assert door.offered == ["dibaca petugas", "boom: tidak terbaca", "sesudahnya"]
        assert flags(client, "dibaca petugas") == {"\\Seen", DONE}
        assert flags(client, "boom: tidak terbaca") == {"\\Flagged", DONE}, "left unread, for a person"
        assert flags(client, "sesudahnya") == {"\\Seen", DONE}

        # What the door dealt with is not offered again, whether a person reads it, or unreads it, or not.
        client.store("1:*", "-FLAGS", r"(\Seen)")
        assert await poller(dovecot, name, door).poll_once() == 0
        assert len(door.offered) == 3
    finally:
        client.logout()


async def test_mail_the_api_cannot_take_now_stays_as_it_was(dovecot: Dovecot) -> None:
    name = "Uji-nanti"
    client = mailbox(dovecot, name)
    try:
        put(client, name, "later: API mati")
        put(client, name, "menunggu giliran")
        door = ScriptedDoor()
        assert await poller(dovecot, name, door).poll_once() == 0
        assert door.offered == ["later: API mati"], "the rest waits for the next round"
        assert flags(client, "later: API mati") == set()
        assert flags(client, "menunggu giliran") == set()
    finally:
        client.logout()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([b"OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted."], True),
        ([b"OK [PERMANENTFLAGS (\\Seen $SimpulDone)] Limited"], True),
        ([b"OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] No keywords."], False),
        ([b"FLAGS (\\Seen)", b"OK [READ-WRITE] SELECT completed"], False),
    ],
)
def test_keywords_only_where_the_server_keeps_them(lines: list[bytes], expected: bool) -> None:
    assert takes_keywords(list(lines)) is expected
