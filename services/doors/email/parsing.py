"""A mail's bytes read into what the door needs: who wrote it, the subject, the text, the files, and the headers
that say whether a machine sent it. Reading never fails: what cannot be read is left out or stands as empty."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from functools import partial
from typing import TypeVar

from services.doors.email.text import clean, html_to_text

T = TypeVar("T")
D = TypeVar("D")

_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\]+")
_FILENAME_LIMIT = 200


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"Attachment(media_type={self.media_type!r}, size={len(self.data)})"


@dataclass(frozen=True)
class InboundMail:
    digest: str
    """SHA-256 of the bytes as received."""
    message_id: str | None
    from_address: str | None
    from_name: str | None
    subject: str
    text: str
    """The text/plain part (or the HTML part made plain), cleaned; empty when there is none or it cannot be read."""
    attachments: tuple[Attachment, ...]
    recipients: tuple[str, ...]
    """The addresses in To, Cc, Delivered-To, X-Original-To and Envelope-To, lower case."""
    content_type: str
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The screening headers (lower-case names): auto-submitted, x-autoreply, x-autorespond, precedence, x-loop,
    return-path."""

    def __repr__(self) -> str:
        return f"InboundMail(message_id={self.message_id!r}, attachments={len(self.attachments)}, <content hidden>)"

    def header(self, name: str) -> tuple[str, ...]:
        return self.headers.get(name.lower(), ())


_SCREENING_HEADERS = ("Auto-Submitted", "X-Autoreply", "X-Autorespond", "Precedence", "X-Loop", "Return-Path")


def parse(raw: bytes) -> InboundMail:
    try:
        return _parse(raw)
    except Exception:  # the parser gives up on very little; whatever it is, the mail still stands as text
        return InboundMail(
            digest=hashlib.sha256(raw).hexdigest(),
            message_id=None,
            from_address=None,
            from_name=None,
            subject="",
            text=_raw_text(raw),
            attachments=(),
            recipients=(),
            content_type="text/plain",
        )


def _parse(raw: bytes) -> InboundMail:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(msg, EmailMessage):
        raise TypeError("not an EmailMessage")
    from_name, from_address = parseaddr(_header(msg, "From"))
    body_parts, text = _body(msg)
    if not text and _is_broken(msg):
        text = _raw_text(raw)
    message_id = _header(msg, "Message-ID").strip().strip("<>").strip()
    return InboundMail(
        digest=hashlib.sha256(raw).hexdigest(),
        message_id=message_id or None,
        from_address=from_address.strip().lower() or None if "@" in from_address else None,
        from_name=clean(from_name) or None,
        subject=clean(_header(msg, "Subject")),
        text=text,
        attachments=tuple(_attachments(msg, body_parts)),
        recipients=tuple(
            a.strip().lower()
            for a in (addr for _, addr in getaddresses([_header(msg, h) for h in _RECIPIENT_HEADERS]))
            if "@" in a
        ),
        content_type=_safe(msg.get_content_type, "text/plain"),
        headers={h.lower(): tuple(_all(msg, h)) for h in _SCREENING_HEADERS if _all(msg, h)},
    )


def _header(msg: Message, name: str) -> str:
    values = _all(msg, name)
    return values[0] if values else ""


def _all(msg: Message, name: str) -> list[str]:
    """A header's values decoded (RFC 2047); a value the parser cannot make sense of is decoded as well as can be."""
    found: list[str] = []
    for raw in _safe(lambda: msg.get_all(name, failobj=[]), []):
        try:
            found.append(str(raw))
        except Exception:  # a malformed header may fail only when it is read
            found.append(_decode_raw(raw))
    return found


def _decode_raw(value: object) -> str:
    try:
        return str(make_header(decode_header(str(value))))
    except Exception:
        return str(value)


def _body(msg: EmailMessage) -> tuple[set[int], str]:
    """The parts taken as the body (by id), and its text: the plain part, else the HTML part made plain."""
    parts: set[int] = set()
    plain = _safe(lambda: msg.get_body(preferencelist=("plain",)), None)
    html = _safe(lambda: msg.get_body(preferencelist=("html",)), None)
    for part in (plain, html):
        if part is not None:
            parts.add(id(part))
    text = clean(_part_text(plain)) if plain is not None else ""
    if not text and html is not None:
        text = _safe(lambda: html_to_text(_part_text(html)), "")
    return parts, text


def _part_text(part: Message) -> str:
    """A text part's content, in its charset; an unknown or wrong charset read as UTF-8, else as Windows-1252."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload()) if isinstance(part.get_payload(), str) else ""
    charset = _safe(part.get_content_charset, None) or "utf-8"
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("cp1252", errors="replace")


def _attachments(msg: EmailMessage, body_parts: set[int]) -> list[Attachment]:
    found: list[Attachment] = []
    for part in _safe(lambda: list(msg.walk()), []):
        if part.is_multipart() or id(part) in body_parts:
            continue
        media_type = _safe(part.get_content_type, "application/octet-stream")
        disposition = _safe(part.get_content_disposition, None)
        if media_type in ("text/plain", "text/html") and disposition != "attachment":
            continue  # the other form of the body, or a text part of a forwarded message
        data = _safe(partial(part.get_payload, decode=True), None)
        if not isinstance(data, bytes) or not data:
            continue
        found.append(Attachment(_filename(part, media_type, len(found) + 1), media_type, data))
    return found


def _filename(part: Message, media_type: str, n: int) -> str:
    name = _UNSAFE_FILENAME.sub("_", _safe(part.get_filename, None) or "").strip(" ._")
    if not name:
        name = f"lampiran-{n}{mimetypes.guess_extension(media_type) or '.bin'}"
    if len(name) > _FILENAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: _FILENAME_LIMIT - len(ext) - 1] + dot + ext) if dot and len(ext) < 10 else name[:_FILENAME_LIMIT]
    return name


def _is_broken(msg: Message) -> bool:
    return any(part.defects for part in _safe(lambda: list(msg.walk()), [msg]))


def _raw_text(raw: bytes) -> str:
    """The body as bytes after the header block, read as text: the last resort for a mail whose MIME is broken."""
    _, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    return clean(body.decode("utf-8", errors="replace")) if sep else ""


def _safe(read: Callable[[], T], default: D) -> T | D:
    """What `read` gives; `default` when it raises (the parser defers some of its errors to when a part is read)."""
    try:
        return read()
    except Exception:
        return default
