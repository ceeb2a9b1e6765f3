"""The envelope around every event. Its `id` is also the JetStream `Nats-Msg-Id`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.clock import utcnow
from shared.events.contracts import EVENT_MODELS, EventData


class MalformedEvent(ValueError):
    """Bytes that are not a valid event of a known type. They go to the dead-letter stream at once."""


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    type: str
    version: int = 1
    occurred_at: datetime
    source: str
    correlation_id: str | None = None
    causation_id: uuid.UUID | None = None
    data: dict[str, Any]

    def payload(self) -> EventData:
        """The data parsed as the contract of this event's type."""
        model = EVENT_MODELS.get(self.type)
        if model is None:
            raise MalformedEvent(f"unknown event type {self.type!r}")
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise MalformedEvent(f"invalid {self.type} data: {exc.errors(include_input=False)}") from exc


def new_event(
    data: EventData,
    *,
    source: str,
    correlation_id: str | None = None,
    causation_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        type=data.event_type,
        version=data.event_version,
        occurred_at=occurred_at or utcnow(),
        source=source,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=data.model_dump(mode="json"),
    )


def encode_event(envelope: Envelope) -> bytes:
    return orjson.dumps(envelope.model_dump(mode="json"))


def decode_event(raw: bytes) -> tuple[Envelope, EventData]:
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise MalformedEvent(f"not an event envelope: {exc.errors(include_input=False)}") from exc
    return envelope, envelope.payload()
