"""Files encrypted in segments, so that neither sealing nor opening holds a whole file in memory.

Each file has its own random 256-bit key. The file is cut into segments of SEGMENT bytes, each sealed with
AES-256-GCM under that key. A segment's nonce is its number and whether it is the last one (the STREAM construction),
so a stored file cannot be cut short, reordered or spliced with another without opening failing. The file's key is
sealed with the hub's file key ring (Fernet) and kept beside the object, so rotating the ring re-seals only keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEGMENT = 64 * 1024
TAG = 16
SEALED_SEGMENT = SEGMENT + TAG
HEADER = b"SPF1"
"""The stored form's first bytes: its format and version."""


class FileDamaged(ValueError):
    """A stored file that does not open: a wrong key, or bytes changed, lost or reordered."""


def new_file_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class SealingReader:
    """A readable stream of a file's sealed form, for a writer that pulls (`readinto`), a segment at a time."""

    def __init__(self, source: BinaryIO, key: bytes):
        self._source = source
        self._aead = AESGCM(key)
        self._index = 0
        self._buffer = bytearray(HEADER)
        self._done = False
        self._next = source.read(SEGMENT)

    def readinto(self, target: bytearray | memoryview) -> int:
        view = memoryview(target)
        while len(self._buffer) < len(view) and not self._done:
            self._seal_next()
        n = min(len(view), len(self._buffer))
        view[:n] = self._buffer[:n]
        del self._buffer[:n]
        return n

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and not self._done:
            self._seal_next()
        n = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def _seal_next(self) -> None:
        segment = self._next
        self._next = self._source.read(SEGMENT)
        last = not self._next
        self._buffer += self._aead.encrypt(_nonce(self._index, last), segment, None)
        self._index += 1
        self._done = last


async def opened(key: bytes, sealed: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The plaintext of a sealed file, a segment at a time, from its stored bytes in chunks of any size."""
    aead = AESGCM(key)
    pending = bytearray()
    header_seen = False
    index = 0
    async for chunk in sealed:
        pending += chunk
        if not header_seen:
            if len(pending) < len(HEADER):
                continue
            if bytes(pending[: len(HEADER)]) != HEADER:
                raise FileDamaged("not a sealed file")
            del pending[: len(HEADER)]
            header_seen = True
        # Keep the last whole segment back until more arrives: only the end says which segment is the last.
        while len(pending) > SEALED_SEGMENT:
            yield _open(aead, bytes(pending[:SEALED_SEGMENT]), index, last=False)
            del pending[:SEALED_SEGMENT]
            index += 1
    if not header_seen or len(pending) < TAG:
        raise FileDamaged("cut short")
    yield _open(aead, bytes(pending), index, last=True)


def _open(aead: AESGCM, segment: bytes, index: int, *, last: bool) -> bytes:
    try:
        return aead.decrypt(_nonce(index, last), segment, None)
    except InvalidTag as exc:
        raise FileDamaged(f"segment {index} does not open") from exc
