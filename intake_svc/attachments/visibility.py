"""Which of a case's files the reporter sees: their own, and an agency's once a follow-up names it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.models import ATTACHMENTS, FollowUp
from shared.domain import ScanStatus
from shared.events.topology import Service
from shared.files import records
from shared.files.schemas import AttachmentView


async def named_by_follow_ups(session: AsyncSession, tracking_id: str) -> set[str]:
    rows = await session.scalars(select(FollowUp.attachment_ids).where(FollowUp.tracking_id == tracking_id))
    return {attachment_id for ids in rows for attachment_id in ids}


def reporter_sees(row: Row[tuple[object, ...]], named: set[str]) -> bool:
    """Their own files (an infected one marked as such), and an agency's only once a follow-up names it."""
    values = row._mapping
    if values["owner"] == Service.intake.value:
        return True
    return values["id"] in named and values["scan_status"] != ScanStatus.infected.value


async def visible(session: AsyncSession, tracking_id: str) -> list[Row[tuple[object, ...]]]:
    rows = await records.of_case(session, ATTACHMENTS, tracking_id)
    named = await named_by_follow_ups(session, tracking_id)
    return [row for row in rows if reporter_sees(row, named)]


def views(rows: Sequence[Row[tuple[object, ...]]]) -> list[AttachmentView]:
    return [records.view_of(r) for r in rows]
