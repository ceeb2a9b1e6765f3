"""The reporter's files: attach one to the case, and download those the reporter may see (needs X-Receipt)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import StreamingResponse

from intake_svc.attachments import service
from intake_svc.complaints.endpoints import Receipt, ReceiptGateDep, StreamedReceiptIdempotency, rate_limit
from intake_svc.context import ContextDep
from shared.errors import error_responses
from shared.files.schemas import DOWNLOAD_ANSWER, UPLOAD_BODY, AttachmentView
from shared.files.serve import download
from shared.http.app import SessionDep
from shared.logging import get_logger

log = get_logger(__name__)

router = APIRouter(prefix="/api/v1/complaints", dependencies=[Depends(rate_limit)], tags=["reporter"])


@router.post(
    "/{tracking_id}/attachments",
    response_model=AttachmentView,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses=error_responses(400, 404, 409, 413, 415, 422, 429, 503),
)
async def upload_attachment(
    tracking_id: str,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    gate: ReceiptGateDep,
    idempotency: StreamedReceiptIdempotency,
    x_receipt: Receipt = None,
) -> AttachmentView:
    """Attach a photo or a document to the case (needs X-Receipt; multipart field `file`)."""
    # A retry with its Idempotency-Key gets its first answer, even once the limits are reached.
    room = idempotency.key_hash is None
    complaint = await service.open_for_upload(session, ctx, tracking_id, x_receipt, gate, room=room)
    view = await service.accept(session, ctx, request, complaint, idempotency)
    log.info("attachment_added", attachment_id=view.id, media_type=view.media_type, size=view.size)
    return view


@router.get(
    "/{tracking_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_ANSWER, **error_responses(404, 409, 410, 429)},
)
async def download_attachment(
    tracking_id: str,
    attachment_id: str,
    session: SessionDep,
    ctx: ContextDep,
    gate: ReceiptGateDep,
    x_receipt: Receipt = None,
) -> StreamingResponse:
    """Download one of the case's files (needs X-Receipt)."""
    row = await service.one_visible(session, tracking_id, attachment_id, x_receipt, gate)
    await session.commit()
    return await download(row, ctx.uploads.stores, serve_unscanned=ctx.settings.serves_unscanned())
