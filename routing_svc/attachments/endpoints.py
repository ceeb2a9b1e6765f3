"""Coordinators download any file of any case (an infected one never)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from routing_svc.auth import StaffDep
from routing_svc.dependencies import CaseCtxDep
from routing_svc.models import ATTACHMENTS
from shared.errors import error_responses
from shared.files import records
from shared.files.schemas import DOWNLOAD_ANSWER
from shared.files.serve import download, not_found
from shared.http.app import SessionDep
from shared.logging import bind_tracking_id

router = APIRouter(prefix="/api/v1/hub", tags=["cases"])


@router.get(
    "/complaints/{tracking_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_ANSWER, **error_responses(401, 403, 404, 409, 410)},
)
async def download_attachment(
    tracking_id: str, attachment_id: str, session: SessionDep, ctx: CaseCtxDep, _: StaffDep
) -> StreamingResponse:
    """Download one of a case's files."""
    bind_tracking_id(tracking_id)
    row = await records.one(session, ATTACHMENTS, tracking_id, attachment_id)
    if row is None:
        raise not_found()
    await session.commit()
    return await download(row, ctx.files, serve_unscanned=ctx.settings.serves_unscanned())
