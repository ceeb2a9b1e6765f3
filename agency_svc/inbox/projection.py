"""The inbox kept from the hub's events. Tolerates repeats and reordering by case_version and unique ids.

- `case_version` is the newest hub version whose status is applied; `disposition_version` the newest disposition.
- A disposition newer than the last one (re)places the case with its holder, resets the holder's local flags
  (a new disposition is a new assignment: acknowledge, forward, delegate and answer start afresh), and sets the
  status to dispositioned unless a newer status is already known.
- A status change for a case held by a node we have not yet seen the disposition for waits (RetryLater).
- A status change naming no holder (triage) releases the case: it leaves every inbox until disposed again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.inbox import repository as repo
from agency_svc.models import Base, Case, CaseMessage
from shared.bus.consumer import RetryLater
from shared.db.dialect import dialect_of, insert_ignore
from shared.db.results import rows_affected
from shared.domain import Status
from shared.events.contracts import ComplaintDispositioned, ComplaintStatusChanged, ReporterReplied
from shared.identity import NameSeal
from shared.logging import get_logger

log = get_logger(__name__)

_MESSAGES = Base.metadata.tables[CaseMessage.__tablename__]

HELD = frozenset({Status.dispositioned, Status.in_progress, Status.answered, Status.completed, Status.archived})
"""Statuses in which an agency node holds the case."""

RETRY_DELAY_S = 0.5


async def apply_dispositioned(
    session: AsyncSession, data: ComplaintDispositioned, occurred_at: datetime, names: NameSeal
) -> bool:
    """Place the case with its new holder; False when the disposition is stale (nothing changed)."""
    snap = data.case
    case = await repo.get_case(session, data.tracking_id, lock=True)
    previous: str | None = None
    if case is None:
        case = Case(
            tracking_id=data.tracking_id,
            case_version=data.case_version,
            status=Status.dispositioned.value,
        )
        session.add(case)
    else:
        if data.case_version <= case.disposition_version:
            log.info("stale_disposition_ignored", case_version=data.case_version, stored=case.disposition_version)
            return False
        previous = case.agency_code
        if data.case_version >= case.case_version:
            case.status = Status.dispositioned.value
            case.case_version = data.case_version
    case.agency_code = data.agency_code
    case.previous_agency_code = data.previous_agency_code or (previous if previous != data.agency_code else None)
    case.title = snap.title
    case.content = snap.content
    case.classification = snap.classification.value
    case.category = snap.category
    case.region_code = snap.region_code
    case.channel = snap.channel.value
    case.incident_date = snap.incident_date
    case.is_anonymous = snap.is_anonymous
    case.is_confidential = snap.is_confidential
    case.reporter_name_sealed = None if snap.is_anonymous else names.from_event(snap.reporter_name_sealed)
    case.submitted_at = snap.submitted_at
    case.disposition_version = data.case_version
    case.route_kind = data.route_kind.value
    case.rule_id = data.rule_id
    case.disposition_reason = data.reason
    case.dispositioned_at = occurred_at
    case.acknowledged_at = None
    case.forward_requested_at = None
    case.forward_reason = None
    case.forward_suggested_code = None
    case.delegation_requested_at = None
    case.delegation_target_code = None
    case.final_posted_at = None
    case.released_at = None
    case.updated_at = occurred_at
    moved = previous is not None and previous != data.agency_code
    note = f"{data.reason} (from {previous})" if moved else data.reason
    await repo.add_history(
        session,
        data.tracking_id,
        entry_key=f"disposition:{data.case_version}",
        at=occurred_at,
        kind="dispositioned",
        status=Status.dispositioned.value,
        agency_code=data.agency_code,
        actor=data.actor,
        note=note,
    )
    log.info(
        "case_dispositioned",
        agency_code=data.agency_code,
        previous_agency_code=previous,
        case_version=data.case_version,
        route_kind=data.route_kind.value,
    )
    return True


async def apply_status_changed(session: AsyncSession, data: ComplaintStatusChanged) -> bool:
    """Apply the hub's status; False when the case is unknown or the status stale (nothing changed)."""
    case = await repo.get_case(session, data.tracking_id, lock=True)
    held = data.status in HELD and data.agency_code is not None
    if case is None:
        if held:
            raise RetryLater("the disposition of this case has not arrived yet", delay=RETRY_DELAY_S)
        log.info("status_for_unknown_case_ignored", status=data.status.value)
        return False
    if data.case_version <= case.case_version:
        log.info("stale_status_ignored", case_version=data.case_version, stored=case.case_version)
        return False
    if held and data.agency_code != case.agency_code and data.case_version > case.disposition_version:
        raise RetryLater("the re-disposition of this case has not arrived yet", delay=RETRY_DELAY_S)
    reopened = data.status is Status.in_progress and (
        data.previous_status is Status.answered or case.status == Status.answered.value
    )
    case.status = data.status.value
    case.case_version = data.case_version
    case.updated_at = data.changed_at
    if reopened:
        case.final_posted_at = None
    if data.agency_code is None:
        # Back at the hub (triage after a forward with no usable target): it leaves the old holder's inbox.
        case.released_at = data.changed_at
    await repo.add_history(
        session,
        data.tracking_id,
        entry_key=f"status:{data.case_version}",
        at=data.changed_at,
        kind="status",
        status=data.status.value,
        agency_code=data.agency_code,
        actor=data.actor,
        note=data.reason,
    )
    log.info("status_applied", status=data.status.value, case_version=data.case_version)
    return True


async def apply_reporter_replied(session: AsyncSession, data: ReporterReplied) -> bool:
    """Store the reporter's message; False when the case is unknown or the message already stored."""
    case = await repo.get_case(session, data.tracking_id)
    if case is None:
        log.info("reply_for_unknown_case_ignored")
        return False
    stmt = insert_ignore(dialect_of(session), _MESSAGES, ["message_id"]).values(
        message_id=data.message_id,
        tracking_id=data.tracking_id,
        content=data.content,
        disputes_answer=data.disputes_answer,
        sent_at=data.sent_at,
    )
    if rows_affected(await session.execute(stmt)) == 0:
        return False
    await repo.add_history(
        session,
        data.tracking_id,
        entry_key=f"message:{data.message_id}",
        at=data.sent_at,
        kind="reporter_message",
        note="disputes the answer" if data.disputes_answer else "accepts the answer" if data.accepts_answer else None,
    )
    log.info("reporter_message_stored", disputes_answer=data.disputes_answer)
    return True
