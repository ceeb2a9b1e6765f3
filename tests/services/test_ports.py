"""Free ports for the hub's processes: outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvloop

from services.ports import _ephemeral_start, free_port, reserve_port


def test_a_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    below = _ephemeral_start()
    ports = {free_port() for _ in range(20)}
    assert len(ports) > 1, "drawn at random"
    for port in ports:
        if below is not None:
            assert port < below
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))


def test_a_taken_port_is_not_handed_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        held = taken.getsockname()[1]
        assert all(free_port() != held for _ in range(200))


def test_a_reserved_port_is_handed_to_no_one_else_but_its_server_can_serve_on_it() -> None:
    async def serve_once(port: int) -> bytes:
        async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"here")
            await writer.drain()
            writer.close()

        # As the services' uvicorn binds: on uvloop, by host and port, with the loop's default address reuse.
        async with await asyncio.start_server(answer, "127.0.0.1", port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            got = await reader.read()
            writer.close()
            return got

    with reserve_port() as held:
        port = held.getsockname()[1]
        assert all(free_port() != port for _ in range(200))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other, pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", port))
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            assert runner.run(serve_once(port)) == b"here"
            assert runner.run(serve_once(port)) == b"here", "a server started again finds its port"
