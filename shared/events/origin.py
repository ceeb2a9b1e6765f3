"""Whether an event came from the one service that may send it.

The envelope's `type` and `source` are whatever its sender wrote; the subject a message arrived on is not: the broker
lets each service publish only the subjects of its own events (services/nats_users.py, from the topology). So an
event is believed only if it arrived on exactly the subject its data gives (`data.subject()`: its type's subject, and
for a disposition the target node's), and its `source` is the publisher the topology names for its type. Then the
subject vouches for the type, and the broker's grant on that subject vouches for the source.
"""

from __future__ import annotations

from shared.events.contracts import EventData
from shared.events.envelope import Envelope
from shared.events.topology import Route, route_of


class ForgedEvent(ValueError):
    """An event whose subject, type or source disagree with the topology. It goes to the dead-letter stream at once."""


def check_origin(subject: str, envelope: Envelope, data: EventData) -> Route:
    """The event's route, if it arrived on its own subject from its own publisher; else ForgedEvent."""
    if envelope.type != data.event_type:
        raise ForgedEvent(f"its type {envelope.type!r} is not its data's {data.event_type!r}")
    expected = data.subject()
    if subject != expected:
        raise ForgedEvent(f"a {data.event_type} event arrived on {subject!r}, not on {expected!r}")
    try:
        route = route_of(type(data), subject)
    except KeyError:
        raise ForgedEvent(f"no service may publish {envelope.type!r} on {subject!r}") from None
    if envelope.source != route.publisher.value:
        raise ForgedEvent(
            f"a {data.event_type} event names {envelope.source!r} as its source; only {route.publisher.value} sends it"
        )
    return route
