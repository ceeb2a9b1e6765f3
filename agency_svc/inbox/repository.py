"""Queries on cases and what hangs off them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.clocks.repository import overdue as overdue_clause
from agency_svc.directory.repository import subtree_codes
from agency_svc.directory.service import Scope
from agency_svc.inbox.schemas import InboxQuery
from agency_svc.models import Base, Case, CaseHistory, CaseMessage, FollowUp
from shared.db.dialect import dialect_of, insert_ignore
from shared.domain import Classification
from shared.http.paging import Page

_HISTORY = Base.metadata.tables[CaseHistory.__tablename__]


async def get_case(session: AsyncSession, tracking_id: str, *, lock: bool = False) -> Case | None:
    """The case; with `lock`, held until commit (PostgreSQL) and read afresh."""
    return await session.get(Case, tracking_id, with_for_update=lock or None, populate_existing=lock)


async def inbox_page(
    session: AsyncSession,
    scope: Scope,
    query: InboxQuery,
    page: Page,
    *,
    now: datetime,
) -> Sequence[Case]:
    """Cases held anywhere in the scope's subtree, newest disposition first; one extra row tells of a next page.

    `query.overdue` true keeps the cases with a running clock of the subtree past due at `now`; false, the others.
    """
    stmt = select(Case).where(
        Case.agency_code.in_(subtree_codes(scope.path)),
        Case.released_at.is_(None),
        # a whistleblowing report is for its holder alone, not for the holder's ancestors
        or_(Case.classification != Classification.wbs.value, Case.agency_code == scope.code),
    )
    if query.status is not None:
        stmt = stmt.where(Case.status == query.status.value)
    if query.overdue is not None:
        late = overdue_clause(subtree_codes(scope.path), now)
        stmt = stmt.where(late if query.overdue else ~late)
    stmt = stmt.order_by(Case.dispositioned_at.desc(), Case.tracking_id.desc())
    stmt = stmt.offset(page.offset).limit(page.limit + 1)
    return (await session.execute(stmt)).scalars().all()


async def follow_ups_of(session: AsyncSession, tracking_id: str) -> Sequence[FollowUp]:
    stmt = (
        select(FollowUp).where(FollowUp.tracking_id == tracking_id).order_by(FollowUp.posted_at, FollowUp.followup_id)
    )
    return (await session.execute(stmt)).scalars().all()


async def messages_of(session: AsyncSession, tracking_id: str, page: Page) -> Sequence[CaseMessage]:
    """A page of the case's reporter messages, newest first (`page.limit + 1` rows, to tell whether more follow)."""
    stmt = (
        select(CaseMessage)
        .where(CaseMessage.tracking_id == tracking_id)
        .order_by(CaseMessage.sent_at.desc(), CaseMessage.message_id.desc())
        .limit(page.limit + 1)
        .offset(page.offset)
    )
    return (await session.execute(stmt)).scalars().all()


async def message_count(session: AsyncSession, tracking_id: str) -> int:
    stmt = select(func.count()).select_from(CaseMessage).where(CaseMessage.tracking_id == tracking_id)
    return int((await session.execute(stmt)).scalar_one())


async def history_of(session: AsyncSession, tracking_id: str) -> Sequence[CaseHistory]:
    stmt = select(CaseHistory).where(CaseHistory.tracking_id == tracking_id).order_by(CaseHistory.id)
    return (await session.execute(stmt)).scalars().all()


async def add_history(
    session: AsyncSession,
    tracking_id: str,
    *,
    at: datetime,
    kind: str,
    entry_key: str | None = None,
    status: str | None = None,
    agency_code: str | None = None,
    actor: str | None = None,
    note: str | None = None,
) -> None:
    """One history line; a repeated `entry_key` for the case is ignored (events may come twice)."""
    await session.flush()  # the case row must exist before its history (foreign key)
    stmt = insert_ignore(dialect_of(session), _HISTORY, ["tracking_id", "entry_key"]).values(
        tracking_id=tracking_id,
        entry_key=entry_key or f"{kind}:{uuid.uuid4()}",
        at=at,
        kind=kind,
        status=status,
        agency_code=agency_code,
        actor=actor,
        note=note,
    )
    await session.execute(stmt)
