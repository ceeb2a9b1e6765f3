"""The gateway's HTTP server protocol: uvicorn's httptools protocol, with bounds on a request's head.

uvicorn's httptools protocol takes a head of any size and count of headers, and gives a client that sends its head
slowly all the time it wants (the keep-alive timeout stops once a byte arrives). At the one base URL, that lets a few
sockets hold the gateway's memory or its connections. Here a head must arrive whole within HEAD_TIMEOUT_SECONDS
(else 408), in at most MAX_HEAD_BYTES with at most MAX_HEADERS headers (else 431); then the connection is closed.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.errors import ApiError

HEAD_TIMEOUT_SECONDS = 10.0
"""From the connection's start, or a request's first byte, to the end of its head."""
MAX_HEAD_BYTES = 32 * 1024
"""The request line and headers together; the services' largest legitimate head (a key, a few proxies' lines in
X-Forwarded-For) is well under 4 KiB."""
MAX_HEADERS = 100


class _Refused(Exception):
    """Stops the parser once the connection has been answered and closed."""


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline, a size and a count for each request's head."""

    _head_timer: asyncio.TimerHandle | None = None
    _in_head = False
    _head_bytes = 0
    _head_received = 0
    _headers = 0
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:
            # The parser keeps a partial head in memory: it may hold no more than the bound (and one read).
            self._head_received += len(data)
            if self._head_received > MAX_HEAD_BYTES:
                self._refuse(431, "request_header_fields_too_large", f"the request head is over {MAX_HEAD_BYTES} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        self._head_received = 0
        self._headers = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        if self._headers > MAX_HEADERS:
            self._refuse(431, "request_header_fields_too_large", f"the request has over {MAX_HEADERS} headers")
            raise _Refused
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a refusal has answered already; the parser error is only how it stopped the parser
            super().send_400_response(msg)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, "request_header_fields_too_large", f"the request head is over {MAX_HEAD_BYTES} bytes")
            raise _Refused

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a pipelined head waits while the answer before it is sent
            return
        self._refuse(408, "request_timeout", f"the request head did not arrive within {HEAD_TIMEOUT_SECONDS:g} s")

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._refused = True
        self._disarm_head_timer()
        if self.transport.is_closing():
            return
        body = json.dumps(ApiError(status, code, message).body()).encode()
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, reason, len(body), body)
        )
        self.transport.close()
