"""The clamd client against a real clamd (tests/support/clamd.py), and its URL parsing."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.files.clamd import (
    CHUNK_SIZE,
    Clamd,
    ScannerUnavailable,
    ScanResult,
    TcpAddress,
    UnixAddress,
    parse_clamd_url,
    parse_scan_reply,
)
from tests.support.clamd import EICAR, EICAR_SIGNATURE, RunningClamd, start_clamd

MIB = 1024 * 1024


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
def clamd(clamd_daemon: RunningClamd) -> Clamd:
    return Clamd(clamd_daemon.unix_url, timeout=30)


async def test_clean_bytes_are_clean(clamd: Clamd) -> None:
    assert await clamd.scan(chunks_of(b"Jalan rusak di depan SDN 3; sudah dilaporkan dua kali.\n")) == ScanResult(
        infected=False, signature=None
    )


async def test_eicar_is_infected(clamd: Clamd) -> None:
    result = await clamd.scan(chunks_of(EICAR))
    assert result.infected
    assert result.signature is not None and EICAR_SIGNATURE in result.signature
    assert "Eicar" in result.signature


async def test_eicar_split_across_chunks_and_empty_chunks_is_still_one_stream(clamd: Clamd) -> None:
    # An empty chunk must not reach clamd as a zero length (that would end the stream at "X5O!P%").
    result = await clamd.scan(chunks_of(EICAR[:6], b"", EICAR[6:40], b"", EICAR[40:]))
    assert result.infected and result.signature is not None and "Eicar" in result.signature
    # And the client's own re-chunking: a chunk size of 7 bytes sends EICAR in ten pieces.
    assert (await Clamd(clamd.address, chunk_size=7).scan(chunks_of(EICAR))).infected


async def test_a_large_clean_file_streams_in_many_chunks(clamd: Clamd, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(3 * MIB + 123))
    assert path.stat().st_size > 40 * CHUNK_SIZE
    assert await clamd.scan_file(path) == ScanResult(infected=False)
    # The same bytes as one big chunk from the caller: the client splits it for clamd.
    assert await clamd.scan(chunks_of(path.read_bytes())) == ScanResult(infected=False)


async def test_scan_file_finds_eicar_on_disk(clamd: Clamd, tmp_path: Path) -> None:
    path = tmp_path / "eicar.com"
    path.write_bytes(EICAR)
    result = await clamd.scan_file(path)
    assert result.infected and result.signature is not None and "Eicar" in result.signature


async def test_scan_file_of_a_missing_file_says_so_and_not_that_clamd_is_down(clamd: Clamd, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await clamd.scan_file(tmp_path / "gone.bin")


async def test_an_error_from_the_callers_chunks_propagates_unchanged(clamd: Clamd) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"half an upload"
        raise ConnectionResetError("the uploader went away")

    with pytest.raises(ConnectionResetError, match="uploader") as caught:
        await clamd.scan(failing())
    assert not isinstance(caught.value, ScannerUnavailable)
    assert (await clamd.scan(chunks_of(EICAR))).infected  # and clamd is fine for the next scan


async def test_ping(clamd: Clamd) -> None:
    assert await clamd.ping() is True


async def test_tcp(clamd_daemon: RunningClamd) -> None:
    assert clamd_daemon.tcp_port is not None
    clamd = Clamd(f"tcp://127.0.0.1:{clamd_daemon.tcp_port}")
    assert await clamd.ping() is True
    assert await clamd.scan(chunks_of(b"bersih")) == ScanResult(infected=False)
    result = await clamd.scan(chunks_of(EICAR))
    assert result.infected and result.signature is not None and "Eicar" in result.signature


async def test_concurrent_scans_share_one_client(clamd: Clamd) -> None:
    results = await asyncio.gather(*(clamd.scan(chunks_of(EICAR if i % 2 else b"ok %d" % i)) for i in range(10)))
    assert [r.infected for r in results] == [bool(i % 2) for i in range(10)]


async def test_a_socket_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    clamd = Clamd(UnixAddress(str(tmp_path / "no-clamd.sock")))
    with pytest.raises(ScannerUnavailable, match="unreachable"):
        await clamd.scan(chunks_of(b"data"))
    assert await clamd.ping() is False


async def test_a_stopped_clamd_is_unavailable(tmp_path: Path) -> None:
    with start_clamd(tmp_path / "stopped", tcp=True) as daemon:
        unix, tcp = Clamd(daemon.unix_url), Clamd(daemon.tcp_url)
        assert await unix.ping() and await tcp.ping()
    for clamd in (unix, tcp):  # the socket file is gone; the port refuses
        with pytest.raises(ScannerUnavailable, match="unreachable") as caught:
            await clamd.scan(chunks_of(b"data"))
        assert isinstance(caught.value, ConnectionError)
        assert await clamd.ping() is False


async def test_a_stream_over_clamds_limit_is_unavailable_with_clamds_reason(tmp_path: Path) -> None:
    with start_clamd(tmp_path / "small", stream_max_length="1M", tcp=True) as daemon:
        for url in (daemon.unix_url, daemon.tcp_url):
            clamd = Clamd(url, timeout=30)
            with pytest.raises(ScannerUnavailable, match="size limit exceeded") as caught:
                await clamd.scan(chunks_of(*(b"\0" * CHUNK_SIZE for _ in range(64))))  # 4 MiB against 1 MiB
            assert caught.value.reply is not None and caught.value.reply.endswith("ERROR")
            assert await clamd.scan(chunks_of(b"x" * 1000)) == ScanResult(infected=False)  # under the limit


async def test_the_timeout_bounds_the_whole_scan(clamd: Clamd) -> None:
    async def stalls() -> AsyncIterator[bytes]:
        yield b"start"
        await asyncio.sleep(30)
        yield b"never"

    started = time.monotonic()
    with pytest.raises(ScannerUnavailable, match="no verdict within 0.5 s"):
        await Clamd(clamd.address, timeout=0.5).scan(stalls())
    assert time.monotonic() - started < 5


def test_parse_clamd_url_unix() -> None:
    assert parse_clamd_url("unix:///run/clamav/clamd.ctl") == UnixAddress("/run/clamav/clamd.ctl")
    assert parse_clamd_url("/run/clamav/clamd.ctl") == UnixAddress("/run/clamav/clamd.ctl")
    assert parse_clamd_url("  unix:///tmp/c.sock ") == UnixAddress("/tmp/c.sock")
    assert str(parse_clamd_url("/tmp/c.sock")) == "unix:///tmp/c.sock"


def test_parse_clamd_url_tcp() -> None:
    assert parse_clamd_url("tcp://127.0.0.1:3310") == TcpAddress("127.0.0.1", 3310)
    assert parse_clamd_url("tcp://clamav:3310/") == TcpAddress("clamav", 3310)
    assert parse_clamd_url("tcp://[::1]:3310") == TcpAddress("::1", 3310)
    assert str(TcpAddress("::1", 3310)) == "tcp://[::1]:3310"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "expected unix"),
        ("clamd.ctl", "expected unix"),
        ("unix://clamd.ctl", "absolute path"),
        ("unix://host/clamd.ctl", "absolute path"),
        ("tcp://127.0.0.1", "host and a port"),
        ("tcp://:3310", "host and a port"),
        ("tcp://127.0.0.1:0", "host and a port"),
        ("tcp://127.0.0.1:99999", "port must be a number"),
        ("tcp://127.0.0.1:port", "port must be a number"),
        ("tcp://127.0.0.1:3310/scan", "nothing else"),
        ("tcp://user:pw@127.0.0.1:3310", "no credentials"),
        ("http://127.0.0.1:3310", "expected unix"),
    ],
)
def test_parse_clamd_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_clamd_url(url)


def test_replies() -> None:
    assert parse_scan_reply("stream: OK") == ScanResult(infected=False)
    assert parse_scan_reply("stream: Win.Test.EICAR_HDB-1 FOUND") == ScanResult(True, "Win.Test.EICAR_HDB-1")
    for reply in ("INSTREAM size limit exceeded. ERROR", "stream: FOUND", "UNKNOWN COMMAND", ""):
        with pytest.raises(ScannerUnavailable) as caught:
            parse_scan_reply(reply)
        assert caught.value.reply == reply


def test_a_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        Clamd("/tmp/c.sock", chunk_size=0)
