"""Per-node statistics from the assignments (each stay of a case with a node) and the cases."""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from sqlalchemy import Executable, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.models import Assignment, Case, Node
from routing_svc.stats.schemas import AgencyStats
from routing_svc.timeutil import as_utc
from shared.domain import Status


async def agency_stats(session: AsyncSession, limit: int, offset: int) -> list[AgencyStats]:
    """Statistics for a page of nodes in tree order (limit + 1 rows, for paging)."""
    nodes = list((await session.execute(select(Node).order_by(Node.path).limit(limit + 1).offset(offset))).scalars())
    codes = [n.code for n in nodes]
    if not codes:
        return []

    async def counts(stmt: Executable) -> dict[str, int]:
        return {row[0]: int(row[1]) for row in (await session.execute(stmt)).all()}

    received = await counts(
        select(Assignment.agency_code, func.count(func.distinct(Assignment.tracking_id)))
        .where(Assignment.agency_code.in_(codes))
        .group_by(Assignment.agency_code)
    )
    followed_up = await counts(
        select(Assignment.agency_code, func.count(func.distinct(Assignment.tracking_id)))
        .where(Assignment.agency_code.in_(codes), Assignment.first_followup_at.is_not(None))
        .group_by(Assignment.agency_code)
    )
    completed = await counts(
        select(Case.agency_code, func.count())
        .where(Case.agency_code.in_(codes), Case.status == Status.completed.value)
        .group_by(Case.agency_code)
    )
    ratings = {
        row[0]: float(row[1])
        for row in (
            await session.execute(
                select(Case.agency_code, func.avg(Case.rating))
                .where(Case.agency_code.in_(codes), Case.rating.is_not(None))
                .group_by(Case.agency_code)
            )
        ).all()
    }
    hours: dict[str, list[float]] = defaultdict(list)
    responded = select(
        Assignment.agency_code, Assignment.dispositioned_at, Assignment.acknowledged_at, Assignment.first_followup_at
    ).where(
        Assignment.agency_code.in_(codes),
        (Assignment.acknowledged_at.is_not(None)) | (Assignment.first_followup_at.is_not(None)),
    )
    for code, dispositioned_at, acknowledged_at, first_followup_at in (await session.execute(responded)).all():
        first = min(as_utc(t) for t in (acknowledged_at, first_followup_at) if t is not None)
        hours[code].append(max((first - as_utc(dispositioned_at)).total_seconds(), 0.0) / 3600)
    return [
        AgencyStats(
            agency_code=n.code,
            name=n.name,
            received=received.get(n.code, 0),
            followed_up=followed_up.get(n.code, 0),
            completed=completed.get(n.code, 0),
            overdue=0,
            median_first_response_hours=round(median(hours[n.code]), 2) if hours[n.code] else None,
            sla_compliance=None,
            mean_rating=round(ratings[n.code], 2) if n.code in ratings else None,
        )
        for n in nodes
    ]
