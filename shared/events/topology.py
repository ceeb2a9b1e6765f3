"""Who publishes which event on which subject, and which durables consume it: the one source of the wiring.

The broker's grants (services/nats_users.py), each durable's filter subjects (shared.bus.consumer.Subscription),
the outbox's check that a service writes only its own events (shared.outbox.Outbox) and the README's event table are
all derived from `ROUTES`; tests/test_topology.py checks that every route has a consumer (or says why it is
published for outsiders) and that each durable's handlers cover exactly its routes.

To add an event: its contract in shared/events/contracts.py, a `Route` here naming its publisher and consumers, and
a handler in each consumer's `<domain>/handlers.py` (`@handlers.on(TheContract)`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from shared.events.contracts import (
    PRIVATE_ROOT,
    SUBJECT_ROOT,
    AgencyAcknowledged,
    AgencyDelegated,
    AgencyForwardRequested,
    AttachmentAdded,
    CategoryChanged,
    ComplaintDispositioned,
    ComplaintEscalated,
    ComplaintStatusChanged,
    ComplaintSubmitted,
    ContactRegistered,
    EventData,
    FollowupPosted,
    KeyIssued,
    KeyRevoked,
    NodeUpserted,
    ReporterRated,
    ReporterReplied,
    ReporterWithdrew,
    SlaClocksChanged,
    SlaWarning,
)

STREAM = "SIMPUL"
PRIVATE_STREAM = "SIMPUL_PRIVATE"
DLQ_STREAM = "SIMPUL_DLQ"

STREAM_SUBJECTS: dict[str, tuple[str, ...]] = {
    STREAM: (f"{SUBJECT_ROOT}.>",),
    PRIVATE_STREAM: ("private.>",),
    DLQ_STREAM: ("dlq.>",),
}
"""Each stream and the subjects it holds."""


class Service(StrEnum):
    """The four services; each is also the broker user it connects as and the `source` of its events."""

    intake = "intake"
    routing = "routing"
    agency = "agency"
    notify = "notify"


@dataclass(frozen=True)
class Durable:
    """A durable pull consumer: its name, the service whose replicas share it, and the stream it reads."""

    name: str
    service: Service
    stream: str = STREAM


INTAKE_REPORTER_VIEW = Durable("intake-reporter-view", Service.intake)
INTAKE_REFERENCE = Durable("intake-reference", Service.intake)
ROUTING_CASES = Durable("routing-cases", Service.routing)
AGENCY_INBOX = Durable("agency-inbox", Service.agency)
AGENCY_DIRECTORY = Durable("agency-directory", Service.agency)
NOTIFY_CONTACTS = Durable("notify-contacts", Service.notify, PRIVATE_STREAM)
NOTIFY_MESSAGES = Durable("notify-messages", Service.notify)
NOTIFY_KEYS = Durable("notify-keys", Service.notify)

DURABLES: tuple[Durable, ...] = (
    INTAKE_REPORTER_VIEW,
    INTAKE_REFERENCE,
    ROUTING_CASES,
    AGENCY_INBOX,
    AGENCY_DIRECTORY,
    NOTIFY_CONTACTS,
    NOTIFY_MESSAGES,
    NOTIFY_KEYS,
)


@dataclass(frozen=True)
class Bucket:
    """A JetStream Object Store bucket of files: the one service that writes it, and those that read it to serve the
    files of the cases they show."""

    name: str
    owner: Service
    readers: tuple[Service, ...]

    @property
    def stream(self) -> str:
        return f"OBJ_{self.name}"


FILES_INTAKE = Bucket("simpul-files-intake", Service.intake, (Service.agency, Service.routing))
"""Reporters' and operators' files."""
FILES_AGENCY = Bucket("simpul-files-agency", Service.agency, (Service.intake, Service.routing))
"""Agency nodes' files (evidence for their follow-ups)."""
BUCKETS: tuple[Bucket, ...] = (FILES_INTAKE, FILES_AGENCY)


def bucket_of(service: Service) -> Bucket:
    """The bucket a service writes its files to; KeyError for a service that keeps none."""
    for bucket in BUCKETS:
        if bucket.owner is service:
            return bucket
    raise KeyError(service.value)


@dataclass(frozen=True)
class Route:
    """One event: its contract, the one service that may publish it, and the durables that consume it."""

    contract: type[EventData]
    publisher: Service
    consumers: tuple[Durable, ...]
    external: str | None = None
    """Why an event with no consumer here is published all the same (for systems outside the hub)."""

    @property
    def stream(self) -> str:
        return PRIVATE_STREAM if self.contract.private else STREAM

    @property
    def subject(self) -> str:
        """The subject as a filter or a grant names it (a disposition's target node as `*`)."""
        root = PRIVATE_ROOT if self.contract.private else SUBJECT_ROOT
        base = f"{root}.{self.contract.event_type}"
        if self.contract.subject_has_owner:
            return f"{base}.{self.publisher.value}"
        return f"{base}.*" if self.contract.subject_has_node else base


ROUTES: tuple[Route, ...] = (
    Route(ComplaintSubmitted, Service.intake, (ROUTING_CASES, NOTIFY_MESSAGES)),
    Route(ContactRegistered, Service.intake, (NOTIFY_CONTACTS,)),
    Route(ReporterReplied, Service.intake, (ROUTING_CASES, AGENCY_INBOX)),
    Route(ReporterRated, Service.intake, (ROUTING_CASES,)),
    Route(ReporterWithdrew, Service.intake, (ROUTING_CASES,)),
    Route(ComplaintDispositioned, Service.routing, (AGENCY_INBOX,)),
    Route(ComplaintStatusChanged, Service.routing, (INTAKE_REPORTER_VIEW, AGENCY_INBOX, NOTIFY_MESSAGES)),
    Route(SlaClocksChanged, Service.routing, (INTAKE_REPORTER_VIEW, AGENCY_INBOX, NOTIFY_MESSAGES)),
    Route(SlaWarning, Service.routing, (NOTIFY_MESSAGES,)),
    Route(ComplaintEscalated, Service.routing, (NOTIFY_MESSAGES,)),
    Route(NodeUpserted, Service.routing, (AGENCY_DIRECTORY, NOTIFY_MESSAGES)),
    Route(CategoryChanged, Service.routing, (INTAKE_REFERENCE,)),
    Route(KeyIssued, Service.routing, (AGENCY_DIRECTORY, NOTIFY_KEYS)),
    Route(KeyRevoked, Service.routing, (AGENCY_DIRECTORY, NOTIFY_KEYS)),
    Route(AgencyAcknowledged, Service.agency, (ROUTING_CASES,)),
    Route(AgencyForwardRequested, Service.agency, (ROUTING_CASES,)),
    Route(AgencyDelegated, Service.agency, (ROUTING_CASES,)),
    Route(FollowupPosted, Service.agency, (ROUTING_CASES, INTAKE_REPORTER_VIEW, NOTIFY_MESSAGES)),
    Route(AttachmentAdded, Service.intake, (ROUTING_CASES, AGENCY_INBOX)),
    Route(AttachmentAdded, Service.agency, (ROUTING_CASES, INTAKE_REPORTER_VIEW)),
)


def routes_of(contract: type[EventData]) -> tuple[Route, ...]:
    """The routes of an event contract: one, or one per publisher for a contract whose subject names its owner."""
    return tuple(route for route in ROUTES if route.contract is contract)


def route_of(contract: type[EventData], subject: str | None = None) -> Route:
    """The route of an event contract (on `subject`, for one with several publishers); KeyError when none."""
    routes = routes_of(contract)
    if len(routes) > 1 and subject is not None:
        routes = tuple(r for r in routes if r.subject == subject)
    if len(routes) != 1:
        raise KeyError(contract.event_type)
    return routes[0]


def consumed_by(durable: Durable) -> tuple[Route, ...]:
    """The routes a durable consumes, in the order of `ROUTES`."""
    return tuple(route for route in ROUTES if durable in route.consumers)


def filter_subjects(durable: Durable) -> list[str]:
    """A durable's filter: the subjects of the events it consumes."""
    return [route.subject for route in consumed_by(durable)]


def published_by(service: Service) -> tuple[Route, ...]:
    return tuple(route for route in ROUTES if route.publisher is service)


def publishable_subjects(service: Service) -> tuple[str, ...]:
    """The subjects a service may publish on: its events' subjects, as the broker grants them."""
    return tuple(dict.fromkeys(route.subject for route in published_by(service)))


def durable_named(name: str) -> Durable | None:
    return next((d for d in DURABLES if d.name == name), None)


def durables_of(service: Service) -> tuple[Durable, ...]:
    return tuple(d for d in DURABLES if d.service is service)


def event_table(routes: Iterable[Route] = ROUTES) -> str:
    """The README's table of events: each event, its publisher and its consumers (a Markdown table)."""
    lines = ["| event | subject | from | to |", "|---|---|---|---|"]
    for route in routes:
        to = ", ".join(f"{d.service} (`{d.name}`)" for d in route.consumers) or f"outside the hub: {route.external}"
        lines.append(f"| `{route.contract.event_type}` | `{route.subject}` | {route.publisher} | {to} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(event_table())
