"""The gateway's HTTP/1.1 client: keep-alive connections to one service, responses parsed by httptools.

It does only what the gateway needs (a buffered request, a buffered answer) at a fraction of a general client's cost
per request, which is what the one base URL pays on every call.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field

import httptools

IDLE_SECONDS = 4.0
"""A kept connection idle longer is dropped: the services' uvicorn closes one idle for 5 s, and reusing a connection
the server is closing would fail a request that never reached it."""
MAX_CONNECTIONS = 256
SPREAD_CONNECTIONS = 4
"""Connections the pool opens before it reuses one, however light the load: used in turn, they let a balancer
behind the pool (a Kubernetes Service) spread even one request at a time over a service's replicas."""
READ_CHUNK = 65536


class UpstreamUnavailable(ConnectionError):
    """No connection could be made: nothing was sent, so the request may be retried."""


class UpstreamBroken(ConnectionError):
    """The connection failed after the request was sent: the service may or may not have acted on it."""


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    keep_alive: bool = True


@dataclass
class _Parsing:
    bodiless: bool = False
    """An answer to HEAD: its Content-Length names the body a GET would get, and none follows the headers."""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    done: bool = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.done = self.bodiless

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()

    def usable(self) -> bool:
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < IDLE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, head: bytes, body: bytes, timeout: float, *, bodiless: bool = False) -> Answer:
        self.writer.write(head + body if len(body) < READ_CHUNK else head)
        if len(body) >= READ_CHUNK:
            self.writer.write(body)
        parsing = _Parsing(bodiless)
        parser = httptools.HttpResponseParser(parsing)
        async with asyncio.timeout(timeout):
            while not parsing.done:
                chunk = await self.reader.read(READ_CHUNK)
                if not chunk:
                    raise UpstreamBroken("the service closed the connection before it answered")
                try:
                    parser.feed_data(chunk)
                except httptools.HttpParserUpgrade as exc:
                    raise UpstreamBroken("the service asked to switch protocols") from exc
                except httptools.HttpParserError as exc:
                    raise UpstreamBroken(f"the service's answer could not be read: {exc}") from exc
        # httptools' should_keep_alive() is reset once the message is complete: read it off the answer instead.
        closes = any(k.lower() == b"connection" and b"close" in v.lower() for k, v in parsing.headers)
        keep_alive = parser.get_http_version() == "1.1" and not closes
        return Answer(parser.get_status_code(), parsing.headers, b"".join(parsing.body), keep_alive)


class UpstreamPool:
    """Keep-alive connections to one service (host and port): at least SPREAD_CONNECTIONS, reused in turn.

    A balancer in front of a service's replicas spreads connections, not requests. Reusing the latest connection
    first would send a light load down one connection, to one replica."""

    def __init__(self, host: str, port: int, *, connect_timeout: float = 2.0, timeout: float = 30.0):
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._idle: collections.deque[_Connection] = collections.deque()
        self._in_use = 0
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self._host_header = f"{host}:{port}".encode("latin-1")

    async def request(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        """Send one request and read its whole answer; the headers must leave out Host and Content-Length."""
        lines = [method.encode("latin-1"), b" ", target, b" HTTP/1.1\r\nhost: ", self._host_header]
        lines += [b"\r\ncontent-length: ", str(len(body)).encode("latin-1")]
        for name, value in headers:
            lines += [b"\r\n", name, b": ", value]
        lines.append(b"\r\n\r\n")
        head = b"".join(lines)
        async with self._slots:
            conn = await self._connection()
            self._in_use += 1
            try:
                answer = await conn.exchange(head, body, self.timeout, bodiless=method == "HEAD")
            except BaseException:
                conn.close()
                raise
            finally:
                self._in_use -= 1
            if answer.keep_alive:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()
            return answer

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _connection(self) -> _Connection:
        while self._idle and len(self._idle) + self._in_use >= SPREAD_CONNECTIONS:
            conn = self._idle.popleft()
            if conn.usable():
                return conn
            conn.close()
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=READ_CHUNK)
        except (OSError, TimeoutError) as exc:
            raise UpstreamUnavailable(f"cannot connect to {self.host}:{self.port}: {exc!r}") from exc
        return _Connection(reader, writer)
