"""Event envelope and contracts: the only language the services speak to one another."""

from shared.events.contracts import EVENT_MODELS, EventData
from shared.events.envelope import Envelope, MalformedEvent, decode_event, encode_event, new_event

__all__ = [
    "EVENT_MODELS",
    "Envelope",
    "EventData",
    "MalformedEvent",
    "decode_event",
    "encode_event",
    "new_event",
]
