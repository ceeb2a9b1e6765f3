"""What the door does with one mail: ignore it, add it to a case as the reporter's message (a reply to a case's
address), or make it a complaint with its files. Every step goes through the public API with an Idempotency-Key
derived from the mail, so a mail offered twice (a retry, a duplicate delivery) creates nothing twice."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client import Counter

from services.doors.email.api import HubApi, Refused, TryLater
from services.doors.email.parsing import InboundMail, parse
from services.doors.email.screening import IGNORED, ignore_reason
from services.doors.email.settings import EmailDoorSettings
from services.doors.email.text import strip_quotes, within
from shared.http.inputs import is_email_address
from shared.logging import bind_tracking_id, clear_context, get_logger
from shared.reply_address import case_of, has_case_tag

log = get_logger(__name__)

RECEIVED = Counter("simpul_email_received_total", "Mail the email door handled, by outcome", ["outcome"])
FILES_SKIPPED = Counter("simpul_email_files_skipped_total", "Attachments the API refused, by status", ["status"])

TITLE_LIMIT = 200
CONTENT_LIMIT = 20000
MESSAGE_LIMIT = 5000
NO_TITLE = "(tanpa judul)"
NO_TEXT = "(pesan kosong)"
FILES_NOT_TAKEN = (
    "({n} lampiran pada balasan email ini tidak dapat disimpan; unggah melalui portal. "
    "{n} attachment(s) of this reply could not be kept; upload them through the portal.)"
)

Kind = Literal["complaint", "reply", "duplicate", "ignored", "try_later", "refused"]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    detail: str
    tracking_id: str | None = None

    @property
    def accepted(self) -> bool:
        """The mail is dealt with: the sender need not offer it again."""
        return self.kind not in ("try_later", "refused")


def idempotency_key(mail: InboundMail, secret: str) -> str:
    """`email:` and an HMAC-SHA256, under the door's secret, of the Message-ID (of the bytes, for a mail without
    one). Intake's keys belong to no caller: a key anyone could compute from the mail would let whoever holds a
    copy replay the submission and read its receipt."""
    if not secret:
        raise ValueError("the door's idempotency secret is empty")
    source = f"message-id:{mail.message_id}" if mail.message_id else f"bytes:{mail.digest}"
    mac = hmac.new(secret.encode(), ("simpul-email-key:" + source).encode(), hashlib.sha256)
    return "email:" + mac.hexdigest()[:48]


def complaint_body(mail: InboundMail, quoting: bool = False) -> dict[str, Any]:
    """The submission a new mail makes: a pengaduan with no category, for triage. `quoting`: the mail answers one
    of the hub's (it went to a case's address), so what it quotes (the hub's mail, its receipt) is cut off."""
    reporter: dict[str, str] = {}
    if mail.from_address and is_email_address(mail.from_address):
        reporter["email"] = mail.from_address
    if mail.from_name:
        reporter["name"] = within(mail.from_name, 200)
    body: dict[str, Any] = {
        "title": within(mail.subject, TITLE_LIMIT) or NO_TITLE,
        "content": within(strip_quotes(mail.text) if quoting else mail.text, CONTENT_LIMIT) or NO_TEXT,
        "classification": "pengaduan",
        "channel": "email",
    }
    if reporter:
        body["reporter"] = reporter
    return body


def reply_content(mail: InboundMail) -> str:
    text = strip_quotes(mail.text) or NO_TEXT
    if mail.attachments:
        note = FILES_NOT_TAKEN.format(n=len(mail.attachments))
        return within(text, MESSAGE_LIMIT - len(note) - 2) + "\n\n" + note
    return within(text, MESSAGE_LIMIT)


class EmailDoor:
    def __init__(self, settings: EmailDoorSettings, api: HubApi):
        self.api = api
        self.reply_secret = settings.reply_secret.get_secret_value() if settings.reply_secret else None
        self.key_secret = settings.idempotency_secret()
        self.own_addresses = settings.own_addresses()
        self.own_domains = settings.own_domains()

    async def receive(
        self, raw: bytes, envelope_sender: str | None = None, envelope_recipients: Sequence[str] = ()
    ) -> Outcome:
        """Take one mail as received; what became of it. Never raises for what the mail holds."""
        try:
            outcome = await self._receive(raw, envelope_sender, envelope_recipients)
        except TryLater as exc:
            outcome = Outcome("try_later", str(exc))
            log.warning("email_try_later", reason=str(exc))
        finally:
            clear_context()
        RECEIVED.labels(outcome.kind).inc()
        return outcome

    async def _receive(self, raw: bytes, envelope_sender: str | None, envelope_recipients: Sequence[str]) -> Outcome:
        mail = parse(raw)
        key = idempotency_key(mail, self.key_secret)
        reason = ignore_reason(mail, envelope_sender, self.own_addresses, self.own_domains)
        if reason is not None:
            IGNORED.labels(reason).inc()
            log.info("email_ignored", reason=reason, mail=key)
            return Outcome("ignored", reason)
        tracking_id = self._case_addressed(mail, envelope_recipients, key)
        if tracking_id is not None and mail.from_address:
            replied = await self._reply(mail, tracking_id, key)
            if replied is not None:
                return replied
        # Mail to a case's address answers the hub's mail (whatever became of its token): cut what it quotes.
        quoting = any(has_case_tag(a) for a in [*envelope_recipients, *mail.recipients])
        return await self._complaint(mail, key, quoting)

    def _case_addressed(self, mail: InboundMail, envelope_recipients: Sequence[str], key: str) -> str | None:
        """The case whose reply address the mail went to; None when none (a bad token is logged)."""
        if not self.reply_secret:
            return None
        for address in [*envelope_recipients, *mail.recipients]:
            if not has_case_tag(address):
                continue
            tracking_id = case_of(address, self.reply_secret)
            if tracking_id is not None:
                return tracking_id
            log.warning("email_reply_token_invalid", mail=key)
        return None

    async def _reply(self, mail: InboundMail, tracking_id: str, key: str) -> Outcome | None:
        """The reply as the reporter's message on the case; None when the case does not take it (then the mail
        becomes a complaint of its own: no wrong door)."""
        bind_tracking_id(tracking_id)
        assert mail.from_address is not None
        added = await self.api.add_message(tracking_id, reply_content(mail), mail.from_address, key + ":reply")
        if isinstance(added, Refused):
            log.warning("email_reply_not_taken", status=added.status, code=added.code, mail=key)
            clear_context()
            return None
        log.info("email_reply_added", mail=key, message_id=added.get("message_id"), files_left=len(mail.attachments))
        return Outcome("reply", "added to the case", tracking_id)

    async def _complaint(self, mail: InboundMail, key: str, quoting: bool) -> Outcome:
        submitted = await self.api.submit(complaint_body(mail, quoting), key)
        if isinstance(submitted, Refused):
            if submitted.code == "idempotency_key_mismatch":
                # Another mail under a Message-ID already taken: the first one stands.
                log.warning("email_duplicate_message_id", mail=key)
                return Outcome("duplicate", "message id already taken")
            log.error("email_submission_refused", status=submitted.status, code=submitted.code, mail=key)
            return Outcome("refused", f"{submitted.status} {submitted.code}")
        bind_tracking_id(submitted.tracking_id)
        for n, file in enumerate(mail.attachments, start=1):
            uploaded = await self.api.upload(submitted.tracking_id, submitted.receipt, file, f"{key}:{n}")
            if isinstance(uploaded, Refused):
                FILES_SKIPPED.labels(str(uploaded.status)).inc()
                log.warning("email_file_skipped", n=n, status=uploaded.status, code=uploaded.code, mail=key)
        kind: Kind = "duplicate" if submitted.replayed else "complaint"
        log.info("email_complaint", replayed=submitted.replayed, files=len(mail.attachments), mail=key)
        return Outcome(kind, "complaint submitted", submitted.tracking_id)
