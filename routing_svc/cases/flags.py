"""What the hub did not know of a submission, flagged for the coordinators: a category that is not an active one of
the tree, a region code that is not Kemendagri's. The case is taken all the same (no wrong door)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.categories.repository import is_known
from shared.reference.regions import regions


class Flag(StrEnum):
    unknown_category = "unknown_category"
    unknown_region = "unknown_region"


async def submission_flags(session: AsyncSession, category: str | None, region_code: str | None) -> list[str]:
    flags: list[str] = []
    if category and not await is_known(session, category):
        flags.append(Flag.unknown_category.value)
    if region_code and not regions().is_known(region_code):
        flags.append(Flag.unknown_region.value)
    return flags
