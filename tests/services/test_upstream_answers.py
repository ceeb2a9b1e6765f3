"""The gateway's client against a service that misbehaves at the HTTP level (a raw fake over a real socket): each
request gets its own answer, and a connection whose answer was not read to its end is never used again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from services.ports import free_port
from services.upstream import UpstreamBroken, UpstreamPool

STALE = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale"
"""What a confused service might leave on a connection after an answer: someone else's answer."""


def _answer(path: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(path), path)


async def _serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        path = head.split(b" ")[1]
        if path == b"/interim":
            # As uvicorn does: 100 Continue once the head is in, before the body is read, then the answer.
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.1)  # so that the client reads the interim answer on its own
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                await reader.readexactly(int(line.split(b":")[1]))
        if path == b"/interim":
            writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n" + _answer(path))
        elif path == b"/chunked":
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n/chu\r\n4\r\nnked\r\n0\r\n\r\n")
        elif path == b"/garbage":
            writer.write(_answer(path) + STALE)
        elif path == b"/late-garbage":
            writer.write(_answer(path))
            await writer.drain()
            await asyncio.sleep(0.3)
            writer.write(STALE)  # while the connection is idle in the pool
        elif path == b"/close-early":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
            await writer.drain()
            writer.close()
            return
        elif path == b"/stall":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
            await writer.drain()
            await asyncio.sleep(2)
            writer.write(b"x" * 91 + STALE)  # the rest, late, then someone else's answer
        else:
            writer.write(_answer(path))
        await writer.drain()


@asynccontextmanager
async def _fake_service() -> AsyncIterator[UpstreamPool]:
    port = free_port()
    server = await asyncio.start_server(_serve_one, "127.0.0.1", port)
    pool = UpstreamPool("127.0.0.1", port, connect_timeout=2.0, timeout=1.0)
    try:
        yield pool
    finally:
        await pool.close()
        server.close()


async def _own_answers(pool: UpstreamPool, rounds: int = 12) -> None:
    """Requests, one by one, over every kept connection: each answer names its own request's path."""
    for i in range(rounds):
        answer = await pool.request("GET", b"/own/%d" % i, [], b"")
        assert (answer.status, answer.body) == (200, b"/own/%d" % i)


async def test_interim_answers_are_skipped_for_the_final_one() -> None:
    async with _fake_service() as pool:
        answer = await pool.request("POST", b"/interim", [(b"expect", b"100-continue")], b"{}")
        assert (answer.status, answer.body) == (200, b"/interim")
        await _own_answers(pool)


async def test_a_chunked_answer_is_read_whole() -> None:
    async with _fake_service() as pool:
        answer = await pool.request("GET", b"/chunked", [], b"")
        assert (answer.status, answer.body) == (200, b"/chunked")
        await _own_answers(pool)


async def test_bytes_after_an_answer_never_reach_the_next_request() -> None:
    async with _fake_service() as pool:
        for _ in range(3):
            answer = await pool.request("GET", b"/garbage", [], b"")
            assert (answer.status, answer.body) == (200, b"/garbage")
            await _own_answers(pool)


async def test_bytes_sent_to_an_idle_connection_never_reach_the_next_request() -> None:
    async with _fake_service() as pool:
        answer = await pool.request("GET", b"/late-garbage", [], b"")
        assert (answer.status, answer.body) == (200, b"/late-garbage")
        await asyncio.sleep(0.6)  # the stale answer has arrived by now
        await _own_answers(pool)


async def test_an_answer_cut_short_is_an_error_and_its_connection_is_dropped() -> None:
    async with _fake_service() as pool:
        with pytest.raises(UpstreamBroken):
            await pool.request("GET", b"/close-early", [], b"")
        await _own_answers(pool)


async def test_an_answer_not_read_to_its_end_in_time_never_reaches_the_next_request() -> None:
    async with _fake_service() as pool:
        with pytest.raises(TimeoutError):
            await pool.request("GET", b"/stall", [], b"")
        await asyncio.sleep(2.5)  # the late rest and the stale answer have been sent by now
        await _own_answers(pool)
