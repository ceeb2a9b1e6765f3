"""A file's type, sniffed from its content (filetype's signatures); the name and the declared type are never asked."""

from __future__ import annotations

import codecs

import filetype

SNIFF_BYTES = 8192
"""How much of the head the sniffers read: filetype looks at the first 8 KiB (enough for an OOXML or ODF zip)."""

TEXT = "text/plain"
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}


def sniff(head: bytes) -> str | None:
    """The media type of a file that starts with `head`; None when nothing known (or plain text) matches."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    return TEXT if looks_like_text(head) else None


def looks_like_text(head: bytes) -> bool:
    """UTF-8 (a character cut at the end of the head allowed), with no control characters but tab, line ends and
    form feed."""
    if not head or any(b in _CONTROL for b in head):
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def is_text_throughout(chunk: bytes, decoder: codecs.IncrementalDecoder, *, final: bool) -> bool:
    """Whether the next chunk of a file sniffed as text is text too (a file is text only if all of it is)."""
    if any(b in _CONTROL for b in chunk):
        return False
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError:
        return False
    return True


EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    TEXT: ".txt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
}
"""The extension a served file's name gets for its sniffed type (a name's own extension is not trusted)."""
