"""A multipart upload read as it streams in (python-multipart's push parser): the one file part goes straight to a
temporary file, counted, hashed and checked for text on the way, so no request is ever held whole in memory."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from shared.errors import ApiError
from shared.files.sniff import SNIFF_BYTES, still_text

FILE_FIELD = "file"
MAX_NAME = 200


@dataclass
class Received:
    """The file part of an upload, on disk in a temporary file that the caller removes (`discard`)."""

    path: Path
    filename: str | None
    size: int = 0
    head: bytes = b""
    sha256: str = ""
    is_text: bool = True

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def bad_multipart(detail: str) -> ApiError:
    return ApiError(
        400,
        "invalid_multipart",
        f"unggahan harus multipart/form-data dengan satu berkas di kolom `{FILE_FIELD}`: {detail}; an upload must be"
        f" multipart/form-data with one file in the field `{FILE_FIELD}`: {detail}",
    )


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"berkas lebih besar dari {limit} bita; the file is larger than {limit} bytes",
    )


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field_name: bytes = b""
    value: bytes = b""


class _Receiver:
    def __init__(self, directory: Path, max_bytes: int):
        self.directory = directory
        self.max_bytes = max_bytes
        self.part = _Part()
        self.header_field = b""
        self.header_value = b""
        self.received: Received | None = None
        self.out: IO[bytes] | None = None
        self.hash = hashlib.sha256()
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.head = bytearray()
        self.ended = False
        self.error: ApiError | None = None

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.header_field.strip().lower()] = self.header_value.strip()
        self.header_field = self.header_value = b""

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if disposition != b"form-data":
            raise bad_multipart("a part has no Content-Disposition: form-data")
        self.part.field_name = options.get(b"name", b"")
        if self.part.field_name != FILE_FIELD.encode():
            return
        if self.received is not None:
            raise bad_multipart("more than one file")
        fd, name = tempfile.mkstemp(dir=self.directory, prefix="upload-")
        self.out = os.fdopen(fd, "wb")
        self.received = Received(Path(name), _filename(options.get(b"filename")))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.field_name != FILE_FIELD.encode() or self.out is None or self.received is None:
            return
        received = self.received
        received.size += len(chunk)
        if received.size > self.max_bytes:
            raise too_large(self.max_bytes)
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        self.hash.update(chunk)
        if received.is_text:
            received.is_text = still_text(self.text, chunk, final=False)
        self.out.write(chunk)

    def on_part_end(self) -> None:
        if self.part.field_name == FILE_FIELD.encode() and self.out is not None:
            self.out.close()
            self.out = None

    def on_end(self) -> None:
        self.ended = True

    def finish(self) -> Received:
        if not self.ended:
            raise bad_multipart("the body ends before its closing boundary")
        received = self.received
        if received is None:
            raise ApiError(
                422,
                "validation_error",
                "the request is not valid",
                [{"loc": ["body", FILE_FIELD], "msg": "Field required", "type": "missing"}],
            )
        if received.size == 0:
            raise ApiError(422, "empty_file", "berkas kosong; the file is empty")
        received.head = bytes(self.head)
        received.sha256 = self.hash.hexdigest()
        received.is_text = received.is_text and still_text(self.text, b"", final=True)
        return received

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


def _filename(raw: bytes | None) -> str | None:
    """The name as the client gave it, without a path and without control characters; None if nothing is left."""
    if not raw:
        return None
    name = raw.decode("utf-8", errors="replace")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*').strip(" .")
    return name[:MAX_NAME] or None


async def receive_upload(request: Request, directory: Path, max_bytes: int) -> Received:
    """The request's file part, on disk in `directory`. 400 for a broken body, 413 past `max_bytes`, 422 for none
    or an empty one; on any refusal nothing is left on disk."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise bad_multipart("the body is not multipart/form-data with a boundary")
    receiver = _Receiver(directory, max_bytes)
    callbacks = {
        name: getattr(receiver, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
            "on_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
        return receiver.finish()
    except BaseException as exc:
        receiver.close()
        if receiver.received is not None:
            receiver.received.discard()
        if isinstance(exc, MultipartParseError):
            raise bad_multipart(str(exc) or "it does not parse") from exc
        if isinstance(exc, ClientDisconnect):
            # Nobody is left to read the answer; it only keeps the log free of a traceback.
            raise bad_multipart("the client went away before the body ended") from exc
        raise
