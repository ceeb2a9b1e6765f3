"""Reading and replaying the dead-letter stream. Dead letters are kept; a replay leaves the original in place.

A service may publish on `dlq.<durable>` for its own durables, and `ops` replays with no limits, so a letter is
replayed only if it is what that durable could have dead-lettered and its event is one its publisher sent: it arrived
on `dlq.<its durable>`; its event's type, subject and source agree with the topology (shared.events.origin); its
subject is one the publisher's grants allow and the topology routes to that durable; and it is, byte for byte, the
message the stream holds at the letter's sequence. A service cannot make `ops` republish a forged event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.bus.nats_bus import DLQ_STREAM
from shared.bus.subjects import subject_matches
from shared.events import MalformedEvent, decode_event
from shared.events.origin import ForgedEvent, check_origin
from shared.events.topology import durable_named, publishable_subjects
from shared.logging import get_logger

log = get_logger(__name__)

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
    stream_seq: int = 0


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
        deliveries=_int(h.get("Simpul-Deliveries")),
        failed_at=h.get("Simpul-Failed-At", ""),
        payload=msg.data or b"",
        stream=h.get("Simpul-Stream", ""),
        arrived_on=msg.subject or "",
        stream_seq=_int(h.get("Simpul-Stream-Seq")),
    )


def _int(header: str | None) -> int:
    """A number from a header a service wrote; 0 if it is none."""
    try:
        return int(header or "0")
    except ValueError:
        return 0


class ReplayRefused(Exception):
    """A dead letter that its durable could not have written, or whose event is forged; it is left where it is."""


async def check_replayable(js: JetStreamContext, letter: DeadLetter, *, original_aged_out: bool = False) -> None:
    """Refuse a letter unless replaying it republishes, unchanged, an event its publisher sent and its durable reads.

    Everything is checked against the topology and the stream itself, never against a durable's live filter, which
    the service that owns the durable may change. `original_aged_out` (an operator's word, for one letter) lets
    through a letter whose original the stream no longer holds, when every other check passes."""
    if letter.arrived_on != f"{DLQ_PREFIX}.{letter.durable}":
        raise ReplayRefused(f"it names durable {letter.durable!r} but arrived on {letter.arrived_on!r}")
    durable = durable_named(letter.durable)
    if durable is None or durable.stream != letter.stream:
        raise ReplayRefused(f"no durable {letter.durable!r} on stream {letter.stream!r}")
    try:
        envelope, data = decode_event(letter.payload)
    except MalformedEvent as exc:
        raise ReplayRefused(f"it holds no event to replay ({exc})") from exc
    try:
        route = check_origin(letter.subject, envelope, data)
    except ForgedEvent as exc:
        raise ReplayRefused(f"forged: {exc}") from exc
    if not any(subject_matches(s, letter.subject) for s in publishable_subjects(route.publisher)):
        raise ReplayRefused(f"{route.publisher.value} may not publish on {letter.subject!r}")
    if durable not in route.consumers:
        raise ReplayRefused(f"{letter.subject!r} is not a subject that {letter.durable!r} reads")
    await _check_against_original(js, letter, original_aged_out)


async def _check_against_original(js: JetStreamContext, letter: DeadLetter, aged_out_ok: bool) -> None:
    """The letter must be the very message the broker took on its subject: a service writes its own letters, and could
    otherwise make `ops` publish, with ops's rights, an event it may not publish itself."""
    try:
        original = await js.get_msg(letter.stream, letter.stream_seq) if letter.stream_seq > 0 else None
    except NotFoundError:
        original = None
    if original is None and aged_out_ok:
        log.warning("dead_letter_replayed_unchecked", letter=letter.id, stream=letter.stream, seq=letter.stream_seq)
        return
    if original is None:
        raise ReplayRefused(
            f"its original ({letter.stream} #{letter.stream_seq}) is no longer on the stream, so it cannot be checked"
            " (if you trust it: simpul dlq replay --original-aged-out <id>)"
        )
    if original.subject != letter.subject or (original.data or b"") != letter.payload:
        raise ReplayRefused(f"it is not the message {letter.stream} #{letter.stream_seq} holds")


async def replay(js: JetStreamContext, letter: DeadLetter, *, original_aged_out: bool = False) -> None:
    """Publish the original again on its subject, if it passes `check_replayable` (else ReplayRefused).
    Consumers that already processed it skip it by event id."""
    await check_replayable(js, letter, original_aged_out=original_aged_out)
    await js.publish(letter.subject, letter.payload, headers={"Nats-Msg-Id": f"replay-{letter.id}-{time.time_ns()}"})
