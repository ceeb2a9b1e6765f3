"""The gateway's client to one service: httpcore's HTTP/1.1 connections, kept alive and used in turn.

httpcore (with h11) reads the answers: interim 1xx answers are skipped, chunked bodies joined, and a connection goes
back to the pool only once its answer was read to its end; anything else closes it. The pool around the connections
is ours, for the order in which it reuses them (see UpstreamPool).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpcore

IDLE_SECONDS = 4.0
"""A kept connection idle longer is dropped: the services' uvicorn closes one idle for 5 s, and reusing a connection
the server is closing would fail a request that never reached it."""
MAX_CONNECTIONS = 256
SPREAD_CONNECTIONS = 4
"""Connections the pool opens before it reuses one, however light the load: used in turn, they let a balancer
behind the pool (a Kubernetes Service) spread even one request at a time over a service's replicas."""

T = TypeVar("T")


class UpstreamUnavailable(ConnectionError):
    """No connection could be made: nothing was sent, so the request may be retried."""


class UpstreamBroken(ConnectionError):
    """The connection failed after the request was sent: the service may or may not have acted on it."""


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class StreamedAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: AsyncIterator[bytes]
    """The body as it arrives; its errors are the pool's (UpstreamBroken, TimeoutError)."""


class UpstreamPool:
    """Keep-alive connections to one service (host and port): at least SPREAD_CONNECTIONS, reused in turn.

    A balancer in front of a service's replicas spreads connections, not requests. Reusing the latest connection
    first (as httpcore's own pool does) would send a light load down one connection, to one replica."""

    def __init__(self, host: str, port: int, *, connect_timeout: float = 2.0, timeout: float = 30.0):
        self.host = host
        self.port = port
        self.timeout = timeout
        self._origin = httpcore.Origin(b"http", host.encode("ascii"), port)
        self._host_header = f"{host}:{port}".encode("latin-1")
        self._extensions = {"timeout": {"connect": connect_timeout, "read": timeout, "write": timeout, "pool": timeout}}
        self._idle: collections.deque[httpcore.AsyncHTTPConnection] = collections.deque()
        self._in_use = 0
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def request(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        """Send one request and read its whole answer; the headers must leave out Host and Content-Length."""
        sent = [(b"host", self._host_header), (b"content-length", str(len(body)).encode("latin-1")), *headers]
        url = httpcore.URL(scheme=b"http", host=self._origin.host, port=self.port, target=target)
        request = httpcore.Request(
            method.encode("latin-1"), url, headers=sent, content=body, extensions=self._extensions
        )
        async with self._slots:
            conn = self._connection()
            self._in_use += 1
            try:
                async with asyncio.timeout(self.timeout):
                    response = await conn.handle_async_request(request)
                    try:
                        content = b"".join([part async for part in response.aiter_stream()])
                    finally:
                        # Back to idle only if the answer was read to its end; otherwise httpcore closes it.
                        await response.aclose()
            except BaseException as exc:
                await conn.aclose()
                translated = _translated(exc)
                if translated is exc:
                    raise
                raise translated from exc
            finally:
                self._in_use -= 1
            if conn.is_idle() and _nothing_unasked(conn):
                self._idle.append(conn)
            else:
                await conn.aclose()
            return Answer(response.status, list(response.headers), content)

    @asynccontextmanager
    async def request_stream(
        self,
        method: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterable[bytes],
        length: int | None,
    ) -> AsyncIterator[StreamedAnswer]:
        """Send one request whose body is sent as `body` gives it (`length` bytes, or chunked when None), and give
        the answer as it arrives. The headers must leave out Host, Content-Length and Transfer-Encoding.

        No bound covers the whole exchange, which lasts as long as the client takes to send or read the body: a
        write or a read that waits `timeout` fails, and so does an answer that has not begun within `timeout` of the
        body's end. Whatever `body` raises comes out as it is, the connection closed: the service sees a broken
        body. The connection goes back to the pool only once the answer was read to its end."""
        framing = (b"content-length", str(length).encode("latin-1")) if length is not None else _CHUNKED
        sent = [(b"host", self._host_header), framing, *headers]
        url = httpcore.URL(scheme=b"http", host=self._origin.host, port=self.port, target=target)
        loop = asyncio.get_running_loop()
        async with self._slots:
            conn = self._connection()
            self._in_use += 1
            reusable = False
            try:
                async with asyncio.timeout(None) as head_deadline:

                    async def content() -> AsyncIterator[bytes]:
                        async for chunk in body:
                            yield chunk
                        head_deadline.reschedule(loop.time() + self.timeout)

                    request = httpcore.Request(
                        method.encode("latin-1"), url, headers=sent, content=content(), extensions=self._extensions
                    )
                    response = await _translating(conn.handle_async_request(request))
                try:
                    yield StreamedAnswer(response.status, list(response.headers), _chunks(response))
                finally:
                    # Idle again only if the answer was read to its end; otherwise httpcore closes it.
                    await response.aclose()
                reusable = conn.is_idle() and _nothing_unasked(conn)
            finally:
                self._in_use -= 1
                if reusable:
                    self._idle.append(conn)
                else:
                    await conn.aclose()

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().aclose()

    def _connection(self) -> httpcore.AsyncHTTPConnection:
        while self._idle and len(self._idle) + self._in_use >= SPREAD_CONNECTIONS:
            conn = self._idle.popleft()
            # has_expired() is also true when the idle socket is readable: the service closed it, or sent more
            # than it was asked for.
            if conn.is_idle() and not conn.has_expired():
                return conn
            _close_soon(conn)
        return httpcore.AsyncHTTPConnection(self._origin, keepalive_expiry=IDLE_SECONDS)


_CHUNKED = (b"transfer-encoding", b"chunked")


async def _translating(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except BaseException as exc:
        translated = _translated(exc)
        if translated is exc:
            raise
        raise translated from exc


async def _chunks(response: httpcore.Response) -> AsyncIterator[bytes]:
    stream = response.aiter_stream()
    while True:
        try:
            chunk = await anext(stream)
        except StopAsyncIteration:
            return
        except BaseException as exc:
            translated = _translated(exc)
            if translated is exc:
                raise
            raise translated from exc
        yield chunk


def _nothing_unasked(conn: httpcore.AsyncHTTPConnection) -> bool:
    """Whether the service sent nothing after the answer. httpcore would keep such bytes and read them as the next
    request's answer: someone else's. h11 says what it holds; httpcore keeps its h11 state private, so where that
    cannot be seen, the connection is not reused."""
    state = getattr(getattr(conn, "_connection", None), "_h11_state", None)
    trailing = getattr(state, "trailing_data", None)
    return isinstance(trailing, tuple) and trailing == (b"", False)


def _translated(exc: BaseException) -> BaseException:
    """httpcore's errors as the gateway knows them; others (cancellation among them) as they are."""
    if isinstance(exc, httpcore.ConnectError | httpcore.ConnectTimeout):
        return UpstreamUnavailable(f"cannot connect: {exc!r}")
    if isinstance(exc, httpcore.TimeoutException):
        return TimeoutError(f"the service did not answer in time: {exc!r}")
    if isinstance(exc, httpcore.ProtocolError | httpcore.NetworkError | httpcore.UnsupportedProtocol):
        return UpstreamBroken(f"the service's answer could not be read: {exc!r}")
    return exc


def _close_soon(conn: httpcore.AsyncHTTPConnection) -> None:
    task = asyncio.get_running_loop().create_task(conn.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()
