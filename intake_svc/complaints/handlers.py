"""The reporter's view, kept from the hub's events: status changes (newest case_version wins), follow-ups, and the
expected date of an answer (newest clocks_version wins)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.context import IntakeContext
from intake_svc.models import Base, Complaint, FollowUp, TimelineEntry
from shared.bus.handlers import Handlers
from shared.db.dialect import dialect_of, insert_ignore
from shared.db.newer import write_if_newer
from shared.db.results import rows_affected
from shared.domain import Status
from shared.events import Envelope
from shared.events.contracts import ComplaintStatusChanged, FollowupPosted, SlaClocksChanged
from shared.logging import get_logger

log = get_logger(__name__)

handlers = Handlers[IntakeContext]()

_TIMELINE = Base.metadata.tables[TimelineEntry.__tablename__]
_FOLLOW_UPS = Base.metadata.tables[FollowUp.__tablename__]
_UNHELD = frozenset({Status.submitted, Status.postponed, Status.rejected})


async def _add_timeline(
    session: AsyncSession, tracking_id: str, entry_key: str, at: datetime, status: str, note: str | None
) -> None:
    stmt = insert_ignore(dialect_of(session), _TIMELINE, ["tracking_id", "entry_key"]).values(
        tracking_id=tracking_id, entry_key=entry_key, at=at, status=status, note=note
    )
    await session.execute(stmt)


def _touch(complaint: Complaint, at: datetime) -> None:
    complaint.updated_at = max(complaint.updated_at, at)


@handlers.on(ComplaintStatusChanged)
async def on_status_changed(
    session: AsyncSession, envelope: Envelope, data: ComplaintStatusChanged, ctx: IntakeContext
) -> None:
    # Locked (on PostgreSQL) and read afresh: another replica applying a newer status waits, or is waited for.
    complaint = await session.get(Complaint, data.tracking_id, with_for_update=True, populate_existing=True)
    if complaint is None:
        log.info("status_for_unknown_complaint_ignored", event_id=str(envelope.id))
        return
    if data.case_version <= complaint.case_version:
        log.info("stale_status_ignored", case_version=data.case_version, stored_version=complaint.case_version)
        return
    # The hub's first word on a new case repeats "submitted", which the timeline already shows.
    echo = data.previous_status is None and data.status is Status.submitted and complaint.status == data.status
    complaint.status = data.status.value
    complaint.case_version = data.case_version
    if data.agency_code is not None:
        complaint.holder_agency_code = data.agency_code
    elif data.status in _UNHELD:
        complaint.holder_agency_code = None
    _touch(complaint, data.changed_at)
    if not echo:
        await _add_timeline(
            session,
            complaint.tracking_id,
            f"status:{data.case_version}",
            data.changed_at,
            data.status.value,
            data.reason,
        )
    log.info("status_applied", status=data.status.value, case_version=data.case_version)


def _followup_note(language: str, data: FollowupPosted) -> str:
    who = data.agency_name or data.agency_code
    if language == "en":
        return f"{'Final follow-up' if data.is_final else 'Follow-up'} from {who}"
    return f"Tindak lanjut{' akhir' if data.is_final else ''} dari {who}"


@handlers.on(FollowupPosted)
async def on_followup_posted(
    session: AsyncSession, envelope: Envelope, data: FollowupPosted, ctx: IntakeContext
) -> None:
    complaint = await session.get(Complaint, data.tracking_id)
    if complaint is None:
        log.info("followup_for_unknown_complaint_ignored", event_id=str(envelope.id))
        return
    stmt = insert_ignore(dialect_of(session), _FOLLOW_UPS, ["followup_id"]).values(
        followup_id=data.followup_id,
        tracking_id=complaint.tracking_id,
        agency_code=data.agency_code,
        agency_name=data.agency_name,
        content=data.content,
        is_final=data.is_final,
        posted_at=data.posted_at,
        attachment_ids=data.attachment_ids,
    )
    result = await session.execute(stmt)
    if rows_affected(result) == 0:
        return
    await _add_timeline(
        session,
        complaint.tracking_id,
        f"followup:{data.followup_id}",
        data.posted_at,
        complaint.status,
        _followup_note(complaint.language, data),
    )
    _touch(complaint, data.posted_at)
    log.info("followup_stored", is_final=data.is_final)


@handlers.on(SlaClocksChanged)
async def on_clocks_changed(
    session: AsyncSession, envelope: Envelope, data: SlaClocksChanged, ctx: IntakeContext
) -> None:
    expected = data.expected_answer_by
    applied = await write_if_newer(
        session,
        Base.metadata.tables[Complaint.__tablename__],
        {"tracking_id": data.tracking_id, "expected_answer_by": expected, "clocks_version": data.clocks_version},
        key="tracking_id",
        version="clocks_version",
        insert=False,
    )
    if applied:
        log.info("expected_answer_applied", clocks_version=data.clocks_version, known=expected is not None)
        return
    stored = await session.scalar(select(Complaint.clocks_version).where(Complaint.tracking_id == data.tracking_id))
    if stored is None:
        log.info("clocks_for_unknown_complaint_ignored", event_id=str(envelope.id))
    else:
        log.info("stale_clocks_ignored", clocks_version=data.clocks_version, stored_version=stored)
