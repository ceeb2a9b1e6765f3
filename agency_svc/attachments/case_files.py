"""Which of a case's files a node sees, and the node's files that a follow-up names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.models import ATTACHMENTS
from shared.domain import ScanStatus
from shared.errors import ApiError
from shared.events.topology import Service
from shared.files import records
from shared.files.schemas import AttachmentView


def node_sees(row: Row[tuple[object, ...]], viewer: str) -> bool:
    """Every file of a case the node sees, but an infected one only by the node that uploaded it."""
    values = row._mapping
    return bool(
        values["scan_status"] != ScanStatus.infected.value
        or (values["owner"] == Service.agency.value and values["uploaded_by"] == viewer)
    )


async def visible(session: AsyncSession, tracking_id: str, viewer: str) -> list[AttachmentView]:
    rows = await records.of_case(session, ATTACHMENTS, tracking_id)
    return [records.view_of(r) for r in rows if node_sees(r, viewer)]


async def name_files(
    session: AsyncSession, tracking_id: str, attachment_ids: Sequence[str], followup_id: str, author: str
) -> None:
    """Names files the follow-up's author uploaded to the case, not yet named by another follow-up and not infected,
    in a new follow-up; 422 for any other id (another node's drafts are its own to give)."""
    if not attachment_ids:
        return
    wanted = list(dict.fromkeys(attachment_ids))
    rows = {str(r._mapping["id"]): r for r in await records.of_case(session, ATTACHMENTS, tracking_id)}
    wrong = []
    for index, attachment_id in enumerate(wanted):
        row = rows.get(attachment_id)
        ok = (
            row is not None
            and row._mapping["owner"] == Service.agency.value
            and row._mapping["uploaded_by"] == author
            and row._mapping["followup_id"] is None
            and row._mapping["removed_at"] is None
            and row._mapping["scan_status"] != ScanStatus.infected.value
        )
        if not ok:
            wrong.append(
                {
                    "loc": ["body", "attachment_ids", index],
                    "msg": "bukan berkas unit ini pada kasus ini yang belum dipakai; not a file this node uploaded to"
                    " this case that no follow-up names yet (or it was found infected)",
                    "type": "unknown_attachment",
                }
            )
    if wrong:
        raise ApiError(
            422, "unknown_attachment", "berkas yang disebut tidak dapat diberikan; files named cannot be given", wrong
        )
    await records.name_in_followup(session, ATTACHMENTS, tracking_id, wanted, followup_id)
