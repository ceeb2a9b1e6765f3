"""Reading and replaying the dead-letter stream. Dead letters are kept; a replay leaves the original in place."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.bus.nats_bus import DLQ_STREAM


@dataclass(frozen=True)
class DeadLetter:
    id: int
    durable: str
    subject: str
    error: str
    deliveries: int
    failed_at: str
    payload: bytes


async def iter_dead_letters(js: JetStreamContext, durable: str | None = None) -> AsyncIterator[DeadLetter]:
    info = await js.stream_info(DLQ_STREAM)
    if info.state.messages == 0:
        return
    for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
        letter = await get_dead_letter(js, seq)
        if letter is not None and (durable is None or letter.durable == durable):
            yield letter


async def get_dead_letter(js: JetStreamContext, seq: int) -> DeadLetter | None:
    try:
        msg = await js.get_msg(DLQ_STREAM, seq)
    except NotFoundError:
        return None
    h = msg.headers or {}
    return DeadLetter(
        id=seq,
        durable=h.get("Simpul-Durable", ""),
        subject=h.get("Simpul-Subject", ""),
        error=h.get("Simpul-Error", ""),
        deliveries=int(h.get("Simpul-Deliveries", "0")),
        failed_at=h.get("Simpul-Failed-At", ""),
        payload=msg.data or b"",
    )


async def replay(js: JetStreamContext, letter: DeadLetter) -> None:
    """Publish the original again on its subject. Consumers that already processed it skip it by event id."""
    await js.publish(letter.subject, letter.payload, headers={"Nats-Msg-Id": f"replay-{letter.id}-{time.time_ns()}"})
