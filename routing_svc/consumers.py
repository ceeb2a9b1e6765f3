"""The case consumer (`routing-cases`): submissions, agency work and reporter actions move each case's state machine.

Handlers never commit (the runner commits the batch) and never raise on an illegal or stale event: they log it and
change nothing. A case that is not known yet (an event overtook its submission) is retried later.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases import service
from routing_svc.cases.context import CaseContext
from shared.bus.consumer import Handler, Subscription
from shared.events import Envelope, EventData
from shared.events.contracts import (
    AgencyAcknowledged,
    AgencyDelegated,
    AgencyForwardRequested,
    ComplaintSubmitted,
    FollowupPosted,
    ReporterRated,
    ReporterReplied,
    ReporterWithdrew,
)

E = TypeVar("E", bound=EventData)

DURABLE = "routing-cases"
SUBJECTS = [
    "simpul.complaint.submitted",
    "simpul.agency.>",
    "simpul.followup.posted",
    "simpul.reporter.>",
]


def _handler(
    ctx: CaseContext,
    model: type[E],
    apply: Callable[[AsyncSession, CaseContext, E, uuid.UUID], Awaitable[None]],
) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, model):  # the runner parsed by type already; this only narrows the type
            raise TypeError(f"expected {model.__name__}, got {type(data).__name__}")
        await apply(session, ctx, data, envelope.id)

    return handle


def case_subscription(ctx: CaseContext) -> Subscription:
    handlers: dict[str, Handler] = {
        ComplaintSubmitted.event_type: _handler(ctx, ComplaintSubmitted, service.on_submitted),
        AgencyAcknowledged.event_type: _handler(ctx, AgencyAcknowledged, service.on_acknowledged),
        FollowupPosted.event_type: _handler(ctx, FollowupPosted, service.on_followup),
        AgencyForwardRequested.event_type: _handler(ctx, AgencyForwardRequested, service.on_forward_requested),
        AgencyDelegated.event_type: _handler(ctx, AgencyDelegated, service.on_delegated),
        ReporterReplied.event_type: _handler(ctx, ReporterReplied, service.on_replied),
        ReporterRated.event_type: _handler(ctx, ReporterRated, service.on_rated),
        ReporterWithdrew.event_type: _handler(ctx, ReporterWithdrew, service.on_withdrew),
    }
    return Subscription(durable=DURABLE, subjects=SUBJECTS, handlers=handlers)
