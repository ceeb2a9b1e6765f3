"""Which endpoints take a case's event, and the delivery rows made for them in the transaction that applied it.

The event goes to the endpoints of every node that sees the case in its inbox once the event is applied: the
holder and the holder's ancestors, or for a whistleblowing (WBS) report the holder alone. A released case (back at
the hub) is in no inbox and goes nowhere; a node that lost a case to a re-disposition is not told either. Each
endpoint takes only the event types it chose.

The case row stays locked until the transaction commits, so a case's deliveries get increasing ids in the order
their events were applied: the order in which the sender sends them to each endpoint.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.directory.repository import get_node
from agency_svc.inbox.repository import get_case
from agency_svc.models import Case, DeliveryStatus
from agency_svc.webhooks import repository as repo
from agency_svc.webhooks.events import CaseEvent, body_for
from shared.background import made_work
from shared.clock import Clock
from shared.domain import Classification
from shared.events import Envelope
from shared.logging import get_logger

log = get_logger(__name__)

WAKE_FLAG = "webhook_deliveries_made"
"""Set in a session's info when its transaction makes deliveries due now; the sender wakes when it commits."""


def wake_sender_on_commit(session: AsyncSession) -> None:
    made_work(session, WAKE_FLAG)


async def recipients(session: AsyncSession, case: Case) -> list[str]:
    """The nodes that see the case in their inbox: its holder and the holder's ancestors (WBS: the holder alone)."""
    if case.classification == Classification.wbs.value:
        return [case.agency_code]
    holder = await get_node(session, case.agency_code)
    if holder is None:
        return [case.agency_code]
    return [code for code in holder.path.split("/") if code]


class Fanout:
    def __init__(self, clock: Clock, max_age: timedelta):
        self.clock = clock
        self.max_age = max_age

    async def case_event(self, session: AsyncSession, envelope: Envelope, event: CaseEvent) -> int:
        """One pending delivery per endpoint that takes this applied event; how many were made."""
        case = await get_case(session, event.tracking_id, lock=True)
        if case is None or case.released_at is not None:
            return 0
        endpoints = await repo.endpoints_of_nodes(session, await recipients(session, case))
        wanted = [e for e in endpoints if envelope.type in e.event_types]
        if not wanted:
            return 0
        now = self.clock.now()
        body = body_for(envelope, event, case)
        await repo.add_deliveries(
            session,
            [
                {
                    "endpoint_id": e.id,
                    "tracking_id": case.tracking_id,
                    "event_id": str(envelope.id),
                    "event_type": envelope.type,
                    "payload": body,
                    "status": DeliveryStatus.pending.value,
                    "attempts": 0,
                    "created_at": now,
                    "give_up_at": now + self.max_age,
                    "next_attempt_at": now,
                }
                for e in wanted
            ],
        )
        wake_sender_on_commit(session)
        log.info("webhook_deliveries_made", event_type=envelope.type, endpoints=len(wanted))
        return len(wanted)
