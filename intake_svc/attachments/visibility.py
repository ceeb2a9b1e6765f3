"""Which of a case's files the reporter sees: their own, and an agency's once a follow-up names it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.models import ATTACHMENTS, FollowUp
from shared.domain import ScanStatus
from shared.events.topology import Service
from shared.files import records
from shared.files.schemas import AttachmentView


async def named_by_follow_ups(session: AsyncSession, tracking_id: str) -> dict[str, str]:
    """The agency's files the case's follow-ups name, each with the follow-up that names it."""
    rows = await session.execute(
        select(FollowUp.followup_id, FollowUp.attachment_ids).where(FollowUp.tracking_id == tracking_id)
    )
    return {attachment_id: followup_id for followup_id, ids in rows for attachment_id in ids}


def reporter_sees(row: Row[tuple[object, ...]], named: Mapping[str, str]) -> bool:
    """Their own files (an infected one marked as such), and an agency's only once a follow-up names it."""
    values = row._mapping
    if values["owner"] == Service.intake.value:
        return True
    return values["id"] in named and values["scan_status"] != ScanStatus.infected.value


async def visible(session: AsyncSession, tracking_id: str) -> list[AttachmentView]:
    """The files of the case the reporter sees, oldest first; an agency's with the follow-up that gives it."""
    rows = await records.of_case(session, ATTACHMENTS, tracking_id)
    named = await named_by_follow_ups(session, tracking_id)
    return [
        AttachmentView.of(records.meta_of(r), named.get(str(r._mapping["id"])), r._mapping["removed_at"])
        for r in rows
        if reporter_sees(r, named)
    ]
