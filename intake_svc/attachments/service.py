"""Which files of a case the reporter sees, and their uploads. Never commits."""

from __future__ import annotations

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from intake_svc.attachments.visibility import named_by_follow_ups, reporter_sees
from intake_svc.complaints import repository
from intake_svc.complaints.limits import ReceiptGate
from intake_svc.complaints.service import authorize
from intake_svc.context import IntakeContext
from intake_svc.models import ATTACHMENTS, Complaint
from shared.domain import Status, UploaderKind
from shared.errors import ApiError
from shared.files import records
from shared.files.schemas import AttachmentView
from shared.files.serve import not_found
from shared.files.uploads import Uploader
from shared.http.idempotency import Idempotency

REPORTER = Uploader(UploaderKind.reporter, "reporter")
_NO_UPLOADS = frozenset({Status.rejected, Status.completed, Status.archived})


def _require_open(complaint: Complaint) -> None:
    status = Status(complaint.status)
    if status in _NO_UPLOADS:
        raise ApiError(409, "illegal_transition", f"a {status.value} case takes no more files")


async def open_for_upload(
    session: AsyncSession,
    ctx: IntakeContext,
    tracking_id: str,
    receipt: str | None,
    gate: ReceiptGate,
    *,
    room: bool = True,
) -> Complaint:
    """The case, if the receipt opens it and it still takes files, and (`room`) the reporter has room left on it."""
    complaint = await authorize(session, tracking_id, receipt, gate)
    _require_open(complaint)
    if room:
        await ctx.uploads.check_room(session, complaint.tracking_id, REPORTER)
    return complaint


async def accept(
    session: AsyncSession,
    ctx: IntakeContext,
    request: Request,
    complaint: Complaint,
    idempotency: Idempotency | None = None,
) -> AttachmentView:
    now = ctx.clock.now()

    async def lock_case() -> None:
        # Read afresh under the lock: the case may have closed while the file arrived.
        await repository.lock_complaint(session, complaint)
        _require_open(complaint)
        complaint.updated_at = max(complaint.updated_at, now)

    return await ctx.uploads.accept(
        session,
        request,
        tracking_id=complaint.tracking_id,
        uploader=REPORTER,
        now=now,
        lock_case=lock_case,
        idempotency=idempotency,
        anonymous=complaint.is_anonymous,
    )


async def one_visible(
    session: AsyncSession, tracking_id: str, attachment_id: str, receipt: str | None, gate: ReceiptGate
) -> Row[tuple[object, ...]]:
    complaint = await authorize(session, tracking_id, receipt, gate)
    row = await records.one(session, ATTACHMENTS, complaint.tracking_id, attachment_id)
    if row is None or not reporter_sees(row, await named_by_follow_ups(session, complaint.tracking_id)):
        raise not_found()
    return row
