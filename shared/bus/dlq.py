"""Reading and replaying the dead-letter stream. Dead letters are kept; a replay leaves the original in place.

A service may publish on `dlq.<durable>` for its own durables, so a letter is replayed only if it is what that
durable could have dead-lettered: it arrived on `dlq.<its durable>`, and its subject is one the durable reads.
A service cannot make `ops` republish a forged event on a subject that is not its own consumer's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError

from shared.bus.nats_bus import DLQ_STREAM
from shared.bus.subjects import subject_matches

DLQ_PREFIX = "dlq"


@dataclass(frozen=True)
class DeadLetter:
    id: int
    durable: str
    subject: str
    error: str
    deliveries: int
    failed_at: str
    payload: bytes
    stream: str = ""
    arrived_on: str = ""


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
        stream=h.get("Simpul-Stream", ""),
        arrived_on=msg.subject or "",
    )


class ReplayRefused(Exception):
    """A dead letter that its durable could not have written; it is left where it is."""


async def check_replayable(js: JetStreamContext, letter: DeadLetter) -> None:
    if letter.arrived_on != f"{DLQ_PREFIX}.{letter.durable}":
        raise ReplayRefused(f"it names durable {letter.durable!r} but arrived on {letter.arrived_on!r}")
    try:
        info = await js.consumer_info(letter.stream, letter.durable)
    except (NotFoundError, BadRequestError) as exc:
        raise ReplayRefused(f"no durable {letter.durable!r} on stream {letter.stream!r}") from exc
    filters = [f for f in (info.config.filter_subjects or [info.config.filter_subject]) if f]
    if filters and not any(subject_matches(f, letter.subject) for f in filters):
        raise ReplayRefused(f"{letter.subject!r} is not a subject that {letter.durable!r} reads")


async def replay(js: JetStreamContext, letter: DeadLetter) -> None:
    """Publish the original again on its subject, if it passes `check_replayable` (else ReplayRefused).
    Consumers that already processed it skip it by event id."""
    await check_replayable(js, letter)
    await js.publish(letter.subject, letter.payload, headers={"Nats-Msg-Id": f"replay-{letter.id}-{time.time_ns()}"})
