"""A ClamAV daemon client: INSTREAM scans and PING over a unix or TCP socket, with asyncio and no other library.

The protocol (clamd(8)): `zINSTREAM\\0`, then chunks each prefixed by its length as 4 big-endian bytes, then a
zero length; clamd answers one NUL-terminated line, `stream: OK`, `stream: <signature> FOUND` or `... ERROR`.
clamd answers before the end only with an error (a stream over its StreamMaxLength), and then closes the
connection, so the reply is awaited while the chunks are still being sent.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

CHUNK_SIZE = 64 * 1024
"""The largest chunk sent; clamd's own limit is StreamMaxLength for the whole stream, not per chunk."""
DEFAULT_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 5.0
MAX_REPLY = 64 * 1024

_END = struct.pack(">I", 0)
_STREAM_PREFIX = "stream: "
_FOUND = " FOUND"


class ScannerUnavailable(ConnectionError):
    """clamd gave no verdict: unreachable, too slow, or it answered with an error (`reply`)."""

    def __init__(self, message: str, reply: str | None = None) -> None:
        super().__init__(message)
        self.reply = reply


@dataclass(frozen=True)
class ScanResult:
    """clamd's verdict; `signature` names what it found in an infected stream."""

    infected: bool
    signature: str | None = None


@dataclass(frozen=True)
class UnixAddress:
    path: str

    def __str__(self) -> str:
        return f"unix://{self.path}"


@dataclass(frozen=True)
class TcpAddress:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


ClamdAddress = UnixAddress | TcpAddress


def parse_clamd_url(url: str) -> ClamdAddress:
    """`unix:///run/clamav/clamd.ctl` (or the bare absolute path) or `tcp://host:port`; ValueError otherwise."""
    url = url.strip()
    expected = "expected unix:///path/to/clamd.ctl, an absolute socket path, or tcp://host:port"
    if url.startswith("/"):
        return UnixAddress(url)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/") or parts.query or parts.fragment:
            raise ValueError(f"clamd URL {url!r}: a unix socket needs an absolute path (unix:///path); {expected}")
        return UnixAddress(parts.path)
    if parts.scheme == "tcp":
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            raise ValueError(f"clamd URL {url!r}: the port must be a number from 1 to 65535; {expected}") from None
        if not host or port is None or port == 0 or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"clamd URL {url!r}: a TCP address needs a host and a port and nothing else; {expected}")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"clamd URL {url!r}: clamd takes no credentials; {expected}")
        return TcpAddress(host, port)
    raise ValueError(f"clamd URL {url!r}: {expected}")


def parse_scan_reply(reply: str) -> ScanResult:
    """An INSTREAM reply as a verdict; ScannerUnavailable for an error or anything unexpected."""
    verdict = reply.removeprefix(_STREAM_PREFIX)
    if verdict == "OK":
        return ScanResult(infected=False)
    if verdict.endswith(_FOUND) and (signature := verdict.removesuffix(_FOUND).strip()):
        return ScanResult(infected=True, signature=signature)
    raise ScannerUnavailable(f"clamd answered {reply!r}", reply=reply)


class _SendFailed(Exception):
    """The connection broke while sending: clamd may have answered first (an error) and closed it."""


class Clamd:
    """A clamd at one address. Each call opens its own connection, so one instance serves concurrent scans."""

    def __init__(
        self,
        address: ClamdAddress | str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.address = parse_clamd_url(address) if isinstance(address, str) else address
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.chunk_size = chunk_size

    async def ping(self) -> bool:
        """True when clamd answers PONG within the connect timeout; False when it is unreachable or answers else."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                with await self._connect() as sock:
                    await loop.sock_sendall(sock, b"zPING\0")
                    return await self._read_reply(sock) == "PONG"
        except OSError:  # ScannerUnavailable and TimeoutError among them
            return False

    async def scan(self, chunks: AsyncIterable[bytes]) -> ScanResult:
        """Stream the bytes to clamd (INSTREAM) and return its verdict; `timeout` bounds the whole scan, reading
        `chunks` included. An error from `chunks` itself propagates unchanged."""
        try:
            async with asyncio.timeout(self.timeout):
                with await self._connect() as sock:
                    reply = await self._exchange(sock, chunks)
        except TimeoutError:
            raise ScannerUnavailable(f"clamd at {self.address} gave no verdict within {self.timeout:g} s") from None
        return parse_scan_reply(reply)

    async def scan_file(self, path: Path) -> ScanResult:
        """Scan a file on disk, read in chunks so that memory stays bounded whatever its size."""
        file = await asyncio.to_thread(path.open, "rb")
        try:
            return await self.scan(self._file_chunks(file))
        finally:
            file.close()

    async def _file_chunks(self, file: BinaryIO) -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(file.read, self.chunk_size):
            yield chunk

    async def _connect(self) -> socket.socket:
        """A connected non-blocking socket, or ScannerUnavailable.

        A plain socket rather than asyncio streams: a stream transport that fails a write closes at once, dropping
        clamd's reply (its reason) unread, while the socket can still be read."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                targets: list[tuple[int, Any]]
                if isinstance(self.address, UnixAddress):
                    targets = [(socket.AF_UNIX, self.address.path)]
                else:
                    infos = await loop.getaddrinfo(self.address.host, self.address.port, type=socket.SOCK_STREAM)
                    targets = [(family, address) for family, _, _, _, address in infos]
                error: OSError | None = None
                for family, target in targets:
                    sock = socket.socket(family, socket.SOCK_STREAM)
                    sock.setblocking(False)
                    try:
                        await loop.sock_connect(sock, target)
                    except BaseException as exc:
                        sock.close()
                        if not isinstance(exc, OSError):
                            raise
                        error = exc
                        continue
                    return sock
                raise error or OSError("the name resolves to no address")
        except TimeoutError:
            raise ScannerUnavailable(f"clamd at {self.address}: no connection in {self.connect_timeout:g} s") from None
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.address} is unreachable: {exc}") from exc

    async def _exchange(self, sock: socket.socket, chunks: AsyncIterable[bytes]) -> str:
        """Send the stream while awaiting the reply: clamd answers early (and closes) only with an error."""
        reply_task = asyncio.ensure_future(self._read_reply(sock))
        send_task = asyncio.ensure_future(self._send(sock, chunks))
        try:
            await asyncio.wait({reply_task, send_task}, return_when=asyncio.FIRST_COMPLETED)
            if not reply_task.done():
                with suppress(_SendFailed):  # clamd's reply, if it sent one before closing, says why
                    send_task.result()
            return await reply_task
        finally:
            for task in (reply_task, send_task):
                task.cancel()
            await asyncio.gather(reply_task, send_task, return_exceptions=True)

    async def _read_reply(self, sock: socket.socket) -> str:
        loop = asyncio.get_running_loop()
        received = bytearray()
        try:
            while b"\0" not in received:
                data = await loop.sock_recv(sock, 4096)
                if not data or len(received) > MAX_REPLY:
                    raise ScannerUnavailable(f"clamd at {self.address} closed the connection without a verdict")
                received += data
        except ConnectionError as exc:
            if isinstance(exc, ScannerUnavailable):
                raise
            raise ScannerUnavailable(f"clamd at {self.address} closed the connection without a verdict") from exc
        return received[: received.index(b"\0")].decode("utf-8", "replace").strip()

    async def _send(self, sock: socket.socket, chunks: AsyncIterable[bytes]) -> None:
        await self._write(sock, b"zINSTREAM\0")
        async for chunk in chunks:
            view = memoryview(chunk)
            for start in range(0, len(view), self.chunk_size):
                piece = view[start : start + self.chunk_size]
                await self._write(sock, struct.pack(">I", len(piece)) + piece)
        await self._write(sock, _END)  # empty chunks from `chunks` were skipped: a zero length ends the stream

    @staticmethod
    async def _write(sock: socket.socket, data: bytes) -> None:
        try:
            await asyncio.get_running_loop().sock_sendall(sock, data)
        except OSError as exc:
            raise _SendFailed(str(exc)) from exc
