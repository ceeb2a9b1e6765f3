"""Which of a case's files a node sees, the node's uploads, and the files a follow-up names. Never commits."""

from __future__ import annotations

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.attachments.case_files import node_sees
from agency_svc.context import AgencyContext
from agency_svc.inbox import repository as repo
from agency_svc.inbox.service import Held, held_case, require_workable
from agency_svc.models import ATTACHMENTS
from shared.auth import Principal
from shared.domain import UploaderKind
from shared.events.contracts import AttachmentMeta
from shared.files import records
from shared.files.checks import Checked
from shared.files.serve import not_found
from shared.files.uploads import Uploader


def uploader_of(held: Held) -> Uploader:
    return Uploader(UploaderKind.agency, held.scope.code, agency_code=held.scope.code)


async def open_for_upload(
    session: AsyncSession, ctx: AgencyContext, principal: Principal, tracking_id: str, *, room: bool = True
) -> Held:
    """The case, if the key's subtree holds it and it is still worked on, and (`room`) the node has room left on it."""
    held = await held_case(session, principal, tracking_id)
    require_workable(held.case, "given files")
    if room:
        await ctx.uploads.check_room(session, held.case.tracking_id, uploader_of(held))
    return held


async def store(session: AsyncSession, ctx: AgencyContext, held: Held, checked: Checked) -> AttachmentMeta:
    tracking_id = held.case.tracking_id

    async def lock_case() -> None:
        await repo.get_case(session, tracking_id, lock=True)

    return await ctx.uploads.store(
        session, checked, tracking_id=tracking_id, uploader=uploader_of(held), now=ctx.clock.now(), lock_case=lock_case
    )


async def one_visible(
    session: AsyncSession, principal: Principal, tracking_id: str, attachment_id: str
) -> Row[tuple[object, ...]]:
    held = await held_case(session, principal, tracking_id)
    row = await records.one(session, ATTACHMENTS, held.case.tracking_id, attachment_id)
    if row is None or not node_sees(row, held.scope.code):
        raise not_found()
    return row
