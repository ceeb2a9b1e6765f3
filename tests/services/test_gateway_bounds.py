"""The gateway's own bounds, over real sockets: a request head that arrives too slowly, is too large or has too many
headers is answered (408, 431) and its connection closed, and a body larger than its service takes is refused before
it is read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest

from services import gateway as gateway_module
from services import gateway_http
from services.gateway import Upstream, create_gateway
from tests.services.gateway_peers import echo_upstream, serving

PATH = "/api/v1/complaints/echo"
UPLOAD_PATH = "/api/v1/complaints/SPL-1/attachments"
GIVE_UP_S = 20.0
"""How long a test waits for the gateway to act: far beyond every bound under test."""


@asynccontextmanager
async def _gateway(max_body_bytes: int = 1024) -> AsyncIterator[int]:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url, max_body_bytes=max_body_bytes)])
        async with serving(gateway) as url:
            port = urlsplit(url).port
            assert port is not None
            yield port


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, object], bool]:
    """The status and JSON body of the one answer on the connection, and whether the gateway then closed it."""
    data = await reader.read()  # to EOF: the gateway closes the connection after answering
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    return status, json.loads(body) if body else {}, reader.at_eof()


async def test_a_head_sent_slowly_is_answered_408_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_http, "HEAD_TIMEOUT_SECONDS", 1.0)
    async with _gateway() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n".encode())

            async def drip() -> None:
                # One header byte every 0.1 s for far longer than the bound: each byte alone would keep a plain
                # server waiting for the rest.
                for _ in range(int(GIVE_UP_S * 10)):
                    writer.write(b"X-Slow: a\r\n"[:1])
                    await writer.drain()
                    await asyncio.sleep(0.1)

            dripping = asyncio.create_task(drip())
            try:
                async with asyncio.timeout(GIVE_UP_S / 2):
                    status, body, closed = await _answer(reader)
            finally:
                dripping.cancel()
                await asyncio.gather(dripping, return_exceptions=True)
        finally:
            writer.close()
    assert status == 408 and body["error"]["code"] == "request_timeout" and closed  # type: ignore[index]


@pytest.mark.parametrize(
    ("bound", "path"),
    [
        ("BODY_IDLE_SECONDS", PATH),
        ("BODY_TIMEOUT_SECONDS", PATH),
        # A file upload's body is passed on as it arrives, under the same idle bound and a longer whole-body one.
        ("BODY_IDLE_SECONDS", UPLOAD_PATH),
        ("UPLOAD_TIMEOUT_SECONDS", UPLOAD_PATH),
    ],
)
async def test_a_body_that_stalls_or_trickles_is_answered_408_and_closed(
    monkeypatch: pytest.MonkeyPatch, bound: str, path: str
) -> None:
    """The head arrives in time; the body then stops (idle bound) or drips a byte at a time (whole-body bound)."""
    monkeypatch.setattr(gateway_module, bound, 1.0)
    async with _gateway() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789".encode())

            async def trickle() -> None:
                for _ in range(int(GIVE_UP_S * 10)):
                    if bound != "BODY_IDLE_SECONDS":
                        writer.write(b"x")
                        await writer.drain()
                    await asyncio.sleep(0.1)

            trickling = asyncio.create_task(trickle())
            try:
                async with asyncio.timeout(GIVE_UP_S / 2):
                    status, body, closed = await _answer(reader)
            finally:
                trickling.cancel()
                await asyncio.gather(trickling, return_exceptions=True)
        finally:
            writer.close()
    assert status == 408 and body["error"]["code"] == "request_timeout" and closed  # type: ignore[index]


async def test_a_connection_that_sends_nothing_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_http, "HEAD_TIMEOUT_SECONDS", 1.0)
    async with _gateway() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            async with asyncio.timeout(GIVE_UP_S):
                status, _, closed = await _answer(reader)
        finally:
            writer.close()
    assert status == 408 and closed


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param("".join(f"X-Many-{i}: v\r\n" for i in range(gateway_http.MAX_HEADERS + 1)), id="count"),
        pytest.param(f"X-Large: {'v' * (gateway_http.MAX_HEAD_BYTES + 1)}\r\n", id="one-large"),
        pytest.param("".join(f"X-Big-{i}: {'v' * 1000}\r\n" for i in range(40)), id="size"),
    ],
)
async def test_a_head_over_the_bounds_is_answered_431_and_closed(headers: str) -> None:
    async with _gateway() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
            async with asyncio.timeout(GIVE_UP_S):
                status, body, closed = await _answer(reader)
        finally:
            writer.close()
    assert status == 431 and body["error"]["code"] == "request_header_fields_too_large" and closed  # type: ignore[index]


async def test_a_head_within_the_bounds_is_forwarded() -> None:
    near = "".join(f"X-Near-{i}: {'v' * 200}\r\n" for i in range(gateway_http.MAX_HEADERS - 2))
    assert len(near) < gateway_http.MAX_HEAD_BYTES
    async with _gateway() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"GET {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{near}\r\n".encode())
            async with asyncio.timeout(GIVE_UP_S):
                status, body, _ = await _answer(reader)
        finally:
            writer.close()
    assert status == 200 and body["method"] == "GET"


async def test_a_body_over_the_services_limit_is_refused_before_it_is_sent() -> None:
    """The head alone declares too much: the gateway answers the service's 413 without waiting for the body."""
    async with _gateway(max_body_bytes=1024) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n".encode())
            async with asyncio.timeout(GIVE_UP_S):
                status, body, _ = await _answer(reader)
        finally:
            writer.close()
    assert status == 413 and body["error"]["code"] == "payload_too_large"  # type: ignore[index]
