"""Mail the door must not answer with a complaint: auto-replies, bounces, and the hub's own mail coming back."""

from __future__ import annotations

from collections.abc import Collection

from prometheus_client import Counter

from services.doors.email.parsing import InboundMail

IGNORED = Counter("simpul_email_ignored_total", "Mail the email door ignored, by reason", ["reason"])

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_REPORTS = frozenset({"multipart/report", "message/delivery-status", "message/disposition-notification"})


def ignore_reason(
    mail: InboundMail,
    envelope_sender: str | None,
    own_addresses: Collection[str],
    own_domains: Collection[str],
) -> str | None:
    """Why the mail is to be ignored, or None to take it. `envelope_sender` is the SMTP MAIL FROM ("" for the null
    reverse-path of a bounce); None when it is not known (IMAP, where Return-Path tells)."""
    if envelope_sender == "" or any(v.strip() in ("<>", "") for v in mail.header("Return-Path")):
        return "bounce"
    sender = (mail.from_address or "").lower()
    if sender.partition("@")[0] in _DAEMONS or (envelope_sender or "").lower().partition("@")[0] in _DAEMONS:
        return "bounce"
    if mail.content_type in _REPORTS:
        return "bounce"
    if any(v.strip().lower() != "no" for v in mail.header("Auto-Submitted")):
        return "auto_submitted"
    if mail.header("X-Autoreply") or mail.header("X-Autorespond"):
        return "auto_reply"
    if any(v.strip().lower() in _BULK_PRECEDENCE for v in mail.header("Precedence")):
        return "precedence"
    if sender in own_addresses or (envelope_sender or "").lower() in own_addresses:
        return "loop"
    if any(v.strip().strip("<>").lower() in own_addresses for v in mail.header("X-Loop")):
        return "loop"
    if mail.message_id and mail.message_id.rpartition("@")[2].lower() in own_domains:
        return "loop"
    return None
