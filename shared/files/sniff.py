"""A file's type, sniffed from its content (filetype's signatures); the name and the declared type are never asked."""

from __future__ import annotations

import codecs
import re

import filetype

SNIFF_BYTES = 8192
"""How much of the head the sniffers read: filetype looks at the first 8 KiB (enough for an OOXML or ODF zip)."""

TEXT = "text/plain"
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
"""Control characters that plain text does not hold (tab, line ends and form feed it may)."""


def sniff(head: bytes) -> str | None:
    """The media type of a file that starts with `head`; None when nothing known (or plain text) matches."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    return TEXT if head and still_text(codecs.getincrementaldecoder("utf-8")(), head, final=False) else None


def still_text(decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool) -> bool:
    """Whether the next chunk of a file is UTF-8 text too (a character cut at a chunk's end is carried over)."""
    if CONTROL.search(chunk):
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
