"""The dead-letter stream's limits on age and size, against a real nats-server."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StreamConfig
from nats.js.errors import APIError

from services.natsd import NatsServer
from services.streams_cli import add_streams_parser, run_streams
from shared.bus import Bus
from shared.bus.nats_bus import DLQ_STREAM, STREAM, DeadLetterLimits, ensure_streams
from shared.events.topology import STREAM_SUBJECTS

MIB = 1024 * 1024


@pytest.fixture
async def js(natsd: NatsServer) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(natsd.url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def limits_of(js: JetStreamContext, stream: str = DLQ_STREAM) -> tuple[float | None, int | None]:
    config = (await js.stream_info(stream)).config
    return config.max_age, config.max_bytes


async def test_a_new_dead_letter_stream_has_the_default_limits(js: JetStreamContext) -> None:
    await ensure_streams(js)
    assert await limits_of(js) == (0.0, 1024**3), "kept until purged, up to 1 GiB"
    assert (await js.stream_info(DLQ_STREAM)).config.discard == DiscardPolicy.NEW
    assert await limits_of(js, STREAM) == (30 * 86400.0, -1), "the event streams are limited by age only"


async def test_ops_apply_new_limits_to_an_existing_dead_letter_stream(js: JetStreamContext) -> None:
    # A stream made before the limits existed: no age, no size.
    await js.add_stream(StreamConfig(name=DLQ_STREAM, subjects=list(STREAM_SUBJECTS[DLQ_STREAM])))
    assert await limits_of(js) == (0.0, -1)

    await ensure_streams(js, update_dead_letters=True)
    assert await limits_of(js) == (0.0, 1024**3)
    assert (await js.stream_info(DLQ_STREAM)).config.discard == DiscardPolicy.NEW
    await ensure_streams(
        js, dead_letters=DeadLetterLimits(max_age_days=7, max_bytes=64 * MIB), update_dead_letters=True
    )
    assert await limits_of(js) == (7 * 86400.0, 64 * MIB)
    assert (await js.stream_info(DLQ_STREAM)).config.subjects == list(STREAM_SUBJECTS[DLQ_STREAM])


async def test_a_full_dead_letter_stream_refuses_a_new_letter_and_keeps_every_old_one(js: JetStreamContext) -> None:
    """Past its size a new letter is refused (its event stays on its own stream, retried by its consumer); no letter
    already kept is dropped to make room."""
    await ensure_streams(js, dead_letters=DeadLetterLimits(max_bytes=MIB))
    letter = b"x" * (100 * 1024)
    kept: list[int] = []
    refused: list[APIError] = []
    for i in range(20):
        try:
            kept.append((await js.publish("dlq.notify-messages", letter, headers={"Nats-Msg-Id": f"l-{i}"})).seq)
        except APIError as exc:
            refused.append(exc)
    assert 5 <= len(kept) < 20 and len(kept) + len(refused) == 20
    state = (await js.stream_info(DLQ_STREAM)).state
    assert (state.first_seq, state.messages) == (kept[0], len(kept)), "the oldest letters are all still there"


async def test_a_service_creates_with_the_limits_but_never_changes_an_existing_stream(
    natsd: NatsServer, js: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIMPUL_DLQ_MAX_AGE_DAYS", "14")
    monkeypatch.setenv("SIMPUL_DLQ_MAX_BYTES", str(32 * MIB))
    bus = Bus(natsd.url, name="test-dlq-limits")
    await bus.connect()
    await bus.close()
    assert await limits_of(js) == (14 * 86400.0, 32 * MIB)

    monkeypatch.setenv("SIMPUL_DLQ_MAX_AGE_DAYS", "3")
    other = Bus(natsd.url, name="test-dlq-limits-2")
    await other.connect()
    await other.close()
    assert await limits_of(js) == (14 * 86400.0, 32 * MIB), "the services of a hub would fight over them"


async def test_simpul_streams_takes_the_limits_from_its_flags(natsd: NatsServer, js: JetStreamContext) -> None:
    parser = argparse.ArgumentParser()
    add_streams_parser(parser.add_subparsers(dest="command"))
    await ensure_streams(js)
    args = parser.parse_args(
        ["streams", "--nats-url", natsd.url, "--dlq-max-age-days", "5", "--dlq-max-bytes", str(16 * MIB), "--wait", "5"]
    )
    assert await run_streams(args) == 0
    assert await limits_of(js) == (5 * 86400.0, 16 * MIB)
