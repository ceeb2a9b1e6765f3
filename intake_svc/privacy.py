"""Private events at rest: `contact.registered` carries contact details, so its outbox row is sealed.

The kit's outbox stores an event's JSON as written. A private event holds a reporter's email and phone, which
must never rest in plaintext, so intake seals the payload of every private row before it is written, and its
relay opens it just before publishing. Nothing else changes: same table, same transaction, same relay loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from shared.bus.nats_bus import Bus, OutgoingMessage
from shared.crypto import Sealer
from shared.events.contracts import PRIVATE_ROOT

SEALED_PREFIX = b"sealed:"
_PRIVATE = PRIVATE_ROOT + "."


def seal_private_row(row: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """An outbox row (from `Outbox.row`) with its payload sealed when its subject is private."""
    if str(row["subject"]).startswith(_PRIVATE):
        payload: bytes = row["payload"]
        row["payload"] = SEALED_PREFIX + sealer.seal(payload.decode()).encode()
    return row


def open_payload(payload: bytes, sealer: Sealer) -> bytes:
    if payload.startswith(SEALED_PREFIX):
        return sealer.open(payload[len(SEALED_PREFIX) :].decode()).encode()
    return payload


class _OpeningBus:
    """The runtime's bus as the relay sees it: sealed payloads are opened on their way out."""

    def __init__(self, inner: Bus, sealer: Sealer):
        self._inner = inner
        self._sealer = sealer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[bool]:
        opened = [OutgoingMessage(m.subject, open_payload(m.payload, self._sealer), m.msg_id) for m in messages]
        return await self._inner.publish_many(opened)


def opening_bus(inner: Bus, sealer: Sealer) -> Bus:
    """A Bus for the outbox relay that opens sealed private payloads; everything else is the inner bus."""
    return cast(Bus, _OpeningBus(inner, sealer))
