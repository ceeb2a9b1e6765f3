"""The door as a mailbox poller (aioimaplib), for a hub whose mail lands in a mailbox at a provider: mail without the
door's keyword `$SimpulDone` is fetched without marking it, and given the keyword and \\Seen (or moved) only once the
API has taken it; a person reading the mailbox hides nothing from the door. Mail the API cannot take now stays as it
was for the next round. A server that takes no keywords of its own falls back to \\Seen alone (and UNSEEN)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Awaitable

from aioimaplib import IMAP4, IMAP4_SSL, Response
from prometheus_client import Counter, Gauge

from services.doors.email.door import EmailDoor
from services.doors.email.settings import EmailDoorSettings
from shared.logging import get_logger

log = get_logger(__name__)

POLLS = Counter("simpul_email_imap_polls_total", "IMAP polling rounds, by outcome", ["outcome"])
LAST_POLL = Gauge("simpul_email_imap_last_success_timestamp_seconds", "When an IMAP round last completed")

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_PERMANENT_FLAGS = re.compile(r"\[PERMANENTFLAGS \(([^)]*)\)\]", re.IGNORECASE)

DONE = "$SimpulDone"
"""The keyword of mail the door has dealt with (taken, ignored, or left \\Flagged for a person)."""


def takes_keywords(select_lines: list[bytes | bytearray | str]) -> bool:
    """Whether the SELECT answer's PERMANENTFLAGS lets the door keep its keyword (`\\*`: any new keyword)."""
    for line in select_lines:
        text = line.decode(errors="replace") if isinstance(line, bytes | bytearray) else line
        found = _PERMANENT_FLAGS.search(text)
        if found:
            flags = found.group(1).split()
            return "\\*" in flags or DONE in flags
    return False


class ImapFailure(Exception):
    """The server refused a command."""


class ImapPoller:
    def __init__(self, settings: EmailDoorSettings, door: EmailDoor, ssl_context: ssl.SSLContext | None = None):
        if not (settings.imap_host and settings.imap_username and settings.imap_password):
            raise ValueError("the IMAP poller needs imap_host, imap_username and imap_password")
        self.settings = settings
        self.host = settings.imap_host
        self.username = settings.imap_username
        self.password = settings.imap_password.get_secret_value()
        self.door = door
        self.ssl_context = ssl_context

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll every imap_poll_seconds until `stopping` is set; a failed round is logged and tried again."""
        while not stopping.is_set():
            try:
                handled = await self.poll_once()
                POLLS.labels("ok").inc()
                LAST_POLL.set_to_current_time()
                if handled:
                    log.info("imap_round", handled=handled)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                POLLS.labels("failed").inc()
                log.warning("imap_round_failed", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.settings.imap_poll_seconds)

    async def poll_once(self) -> int:
        """One round: every message of the mailbox the door has not dealt with offered to it; how many it dealt with.
        A message that fails in a way nobody expected is \\Flagged for a person, and the round goes on."""
        client = await self._connect()
        try:
            await _ok(client.login(self.username, self.password), "LOGIN")
            selected = await _ok(client.select(self.settings.imap_mailbox), "SELECT")
            keywords = takes_keywords(selected.lines)
            found = await _ok(client.uid_search(f"UNKEYWORD {DONE}" if keywords else "UNSEEN"), "SEARCH")
            uids = [u for line in found.lines[:1] for u in bytes(line).decode().split() if u.isdigit()]
            handled = 0
            for uid in uids:
                try:
                    if not await self._one(client, uid, keywords):
                        break  # the API cannot take mail now: the rest waits for the next round as well
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.error("imap_message_failed", uid=uid, error=f"{type(exc).__name__}: {exc}")
                    await self._flag(client, uid, keywords)  # when even this fails, the round fails
                handled += 1
            return handled
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), self.settings.imap_timeout)

    async def _connect(self) -> IMAP4:
        s = self.settings
        client: IMAP4
        if s.imap_tls:
            client = IMAP4_SSL(self.host, s.imap_port, timeout=s.imap_timeout, ssl_context=self.ssl_context)
        else:
            client = IMAP4(self.host, s.imap_port, timeout=s.imap_timeout)
        await client.wait_hello_from_server()
        return client

    async def _one(self, client: IMAP4, uid: str, keywords: bool) -> bool:
        """Offer one message to the door; False when the API could not take it now."""
        sized = await _ok(client.uid("fetch", uid, "(RFC822.SIZE)"), "FETCH")
        size = next((int(m.group(1)) for line in sized.lines if (m := _SIZE.search(bytes(line)))), 0)
        if size > self.settings.max_message_bytes:
            log.error("imap_message_too_large", uid=uid, size=size, limit=self.settings.max_message_bytes)
            await self._flag(client, uid, keywords)
            return True
        fetched = await _ok(client.uid("fetch", uid, "(BODY.PEEK[])"), "FETCH")
        raw = next((bytes(line) for line in fetched.lines if isinstance(line, bytearray)), None)
        if raw is None:
            raise ImapFailure(f"FETCH {uid}: no message body in the answer")
        outcome = await self.door.receive(raw)
        if outcome.kind == "try_later":
            return False
        if outcome.kind == "refused":
            await self._flag(client, uid, keywords)
        else:
            await self._done(client, uid, keywords)
        return True

    async def _done(self, client: IMAP4, uid: str, keywords: bool) -> None:
        """Taken: marked \\Seen (and $SimpulDone), then moved to imap_done_mailbox when there is one."""
        marks = f"(\\Seen {DONE})" if keywords else r"(\Seen)"
        await _ok(client.uid("store", uid, "+FLAGS", marks), "STORE")
        target = self.settings.imap_done_mailbox
        if not target:
            return
        if client.has_capability("MOVE"):
            await _ok(client.uid("move", uid, target), "MOVE")
        else:
            await _ok(client.uid("copy", uid, target), "COPY")
            await _ok(client.uid("store", uid, "+FLAGS", r"(\Seen \Deleted)"), "STORE")
            await _ok(client.expunge(), "EXPUNGE")

    async def _flag(self, client: IMAP4, uid: str, keywords: bool) -> None:
        """Not taken, for good: left in the mailbox, \\Flagged for a person to look at (and unread), with the door's
        keyword; \\Seen instead where the server takes no keyword."""
        marks = f"(\\Flagged {DONE})" if keywords else r"(\Seen \Flagged)"
        await _ok(client.uid("store", uid, "+FLAGS", marks), "STORE")


async def _ok(command: Awaitable[Response], name: str) -> Response:
    response = await command
    if response.result != "OK":
        raise ImapFailure(f"{name}: {response.result} {[bytes(line)[:200] for line in response.lines][-1:]}")
    return response
