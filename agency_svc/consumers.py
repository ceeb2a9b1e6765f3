"""agency_svc's consumers: the inbox (cases, reporter replies, SLA clocks, webhook deliveries) and the directory and key
replicas."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.clocks.service import apply_clocks_changed
from agency_svc.directory.service import apply_node_upserted
from agency_svc.inbox.projection import (
    RETRY_DELAY_S,
    apply_dispositioned,
    apply_reporter_replied,
    apply_status_changed,
)
from agency_svc.models import KIT
from agency_svc.webhooks.fanout import Fanout
from shared.auth.replica import SUBJECTS as KEY_SUBJECTS
from shared.auth.replica import key_replica_handlers
from shared.bus.consumer import Subscription
from shared.events import Envelope, EventData
from shared.events.contracts import (
    ComplaintDispositioned,
    ComplaintStatusChanged,
    NodeUpserted,
    ReporterReplied,
    SlaClocksChanged,
)
from shared.identity import NameSeal
from shared.logging import get_logger

log = get_logger(__name__)


async def on_clocks_changed(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if isinstance(data, SlaClocksChanged):
        await apply_clocks_changed(session, data)


async def on_node_upserted(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
    if isinstance(data, NodeUpserted):
        await apply_node_upserted(session, data, envelope.occurred_at)


INBOX_DURABLE = "agency-inbox"
# An existing durable takes the new filter subjects when the consumer binds (create-or-update), but only
# for messages after its position: events on an added subject published before that are never delivered.
INBOX_SUBJECTS = [
    "simpul.complaint.dispositioned.>",
    "simpul.complaint.status_changed",
    "simpul.reporter.replied",
    "simpul.sla.clocks_changed",
]


def inbox_subscription(names: NameSeal, fanout: Fanout) -> Subscription:
    """The inbox's events; each case event that changes the inbox also makes its webhook deliveries."""

    async def on_dispositioned(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ComplaintDispositioned) and await apply_dispositioned(
            session, data, envelope.occurred_at, names
        ):
            await fanout.case_event(session, envelope, data)

    async def on_status_changed(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ComplaintStatusChanged) and await apply_status_changed(session, data):
            await fanout.case_event(session, envelope, data)

    async def on_reporter_replied(session: AsyncSession, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, ReporterReplied) and await apply_reporter_replied(session, data):
            await fanout.case_event(session, envelope, data)

    return Subscription(
        durable=INBOX_DURABLE,
        subjects=INBOX_SUBJECTS,
        handlers={
            ComplaintDispositioned.event_type: on_dispositioned,
            ComplaintStatusChanged.event_type: on_status_changed,
            ReporterReplied.event_type: on_reporter_replied,
            SlaClocksChanged.event_type: on_clocks_changed,
        },
    )


DIRECTORY = Subscription(
    durable="agency-directory",
    subjects=["simpul.directory.>", *KEY_SUBJECTS],
    handlers={NodeUpserted.event_type: on_node_upserted, **key_replica_handlers(KIT.api_keys, RETRY_DELAY_S)},
)
