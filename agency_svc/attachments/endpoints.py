"""A node's files: upload one for a follow-up, and download the case's files (each call with the node's key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from agency_svc.attachments import service
from agency_svc.context import ContextDep, StreamedIdempotencyDep
from agency_svc.inbox.endpoints import AgencyKey
from shared.errors import error_responses
from shared.events.contracts import AttachmentMeta
from shared.files.schemas import DOWNLOAD_ANSWER, UPLOAD_BODY, AttachmentView
from shared.files.serve import download
from shared.files.uploads import discard
from shared.http.app import SessionDep
from shared.logging import bind_tracking_id, get_logger

log = get_logger(__name__)

router = APIRouter(prefix="/api/v1/agency", tags=["agency"])


@router.post(
    "/complaints/{tracking_id}/attachments",
    response_model=AttachmentView,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 503),
)
async def upload_attachment(
    tracking_id: str,
    request: Request,
    principal: AgencyKey,
    session: SessionDep,
    ctx: ContextDep,
    idempotency: StreamedIdempotencyDep,
) -> AttachmentView:
    """Upload a file for a follow-up (multipart field `file`); then name it in the follow-up's `attachment_ids`."""
    bind_tracking_id(tracking_id)
    # A retry with its Idempotency-Key gets its first answer, even once the limits are reached.
    held = await service.open_for_upload(session, ctx, principal, tracking_id, room=idempotency.key_hash is None)
    checked = await ctx.uploads.receive(request)
    idempotency.bind_content(checked.sha256, checked.filename)
    stored: list[AttachmentMeta] = []

    async def act() -> AttachmentView:
        meta = await service.store(session, ctx, held, checked)
        stored.append(meta)
        return AttachmentView.of(meta)

    try:
        view = await idempotency.commit_once(session, AttachmentView, act)
    except BaseException:
        for meta in stored:
            await ctx.uploads.forget(meta)
        raise
    finally:
        discard(checked)
    log.info("attachment_added", attachment_id=view.id, media_type=view.media_type, size=view.size)
    return view


@router.get(
    "/complaints/{tracking_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_ANSWER, **error_responses(401, 403, 404, 409, 410)},
)
async def download_attachment(
    tracking_id: str, attachment_id: str, principal: AgencyKey, session: SessionDep, ctx: ContextDep
) -> StreamingResponse:
    """Download one of the files of a case held in the key's subtree."""
    bind_tracking_id(tracking_id)
    row = await service.one_visible(session, principal, tracking_id, attachment_id)
    await session.commit()
    return await download(row, ctx.uploads.stores)
