"""Statistics per node (its subtree included) and per period bucket; definitions in routing_svc/stats/definitions.py."""

from __future__ import annotations

from datetime import date, datetime
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.directory.repository import get_node
from routing_svc.models import Node
from routing_svc.stats import periods
from routing_svc.stats.facts import channel_tally, hub_tally
from routing_svc.stats.repository import bucket_cohort, channel_cohort, node_cohort, tally
from routing_svc.stats.schemas import (
    AgencyStats,
    AgencyStatsList,
    AgencyStatsQuery,
    ChannelStats,
    ChannelStatsList,
    ChannelStatsQuery,
    Figures,
    PeriodStats,
    PeriodStatsList,
    PeriodStatsQuery,
)
from routing_svc.stats.tally import Tally
from shared.domain import Channel
from shared.errors import ApiError
from shared.http.paging import Page


def figures(t: Tally) -> Figures:
    decided = t.sla_met + t.sla_breached
    return Figures(
        received=t.received,
        followed_up=t.followed_up,
        completed=t.completed,
        overdue=t.overdue,
        median_first_response_working_days=round(median(t.response_days), 3) if t.response_days else None,
        median_first_response_hours=round(median(t.response_hours), 2) if t.response_hours else None,
        sla_met=t.sla_met,
        sla_breached=t.sla_breached,
        sla_compliance=round(t.sla_met / decided, 4) if decided else None,
        rated=t.rated,
        mean_rating=round(t.mean_rating, 2) if t.mean_rating is not None else None,
    )


def check_range(first_day: date | None, last_day: date | None) -> None:
    for name, day in (("from", first_day), ("to", last_day)):
        if day is not None and not periods.MIN_DATE <= day <= periods.MAX_DATE:
            raise ApiError(
                422,
                "invalid_period",
                f"`{name}` must be between {periods.MIN_DATE} and {periods.MAX_DATE}",
                [{"loc": ["query", name]}],
            )
    if first_day is not None and last_day is not None and first_day > last_day:
        raise ApiError(422, "invalid_period", "`from` is after `to`", [{"loc": ["query", "from"]}])


async def known_node(session: AsyncSession, code: str, param: str) -> Node:
    node = await get_node(session, code)
    if node is None:
        raise ApiError(422, "unknown_agency", f"{param} {code!r} is not a node", [{"loc": ["query", param]}])
    return node


async def agency_stats(
    session: AsyncSession, query: AgencyStatsQuery, page: Page, *, tz: ZoneInfo, now: datetime
) -> AgencyStatsList:
    """A page of nodes in tree order (or of one node's children), each with its subtree's figures."""
    check_range(query.first_day, query.last_day)
    stmt = select(Node).order_by(Node.path).limit(page.limit + 1).offset(page.offset)
    if query.parent_code is not None:
        await known_node(session, query.parent_code, "parent_code")
        stmt = stmt.where(Node.parent_code == query.parent_code)
    fetched = list((await session.execute(stmt)).scalars())
    nodes = fetched[: page.limit]
    window = periods.window(query.first_day, query.last_day, tz)
    tallies = await tally(session, node_cohort(nodes, window), now) if nodes else {}
    return AgencyStatsList(
        items=[
            AgencyStats(
                agency_code=n.code,
                name=n.name,
                kind=n.kind,
                parent_code=n.parent_code,
                depth=n.depth,
                **figures(tallies.get(n.code, Tally())).model_dump(),
            )
            for n in nodes
        ],
        next_offset=page.next_offset(len(fetched)),
        period_from=query.first_day,
        period_to=query.last_day,
        timezone=tz.key,
        as_of=now,
    )


async def period_stats(
    session: AsyncSession, query: PeriodStatsQuery, *, tz: ZoneInfo, now: datetime
) -> PeriodStatsList:
    """One row per bucket for one node's subtree, or the whole hub; 12 buckets up to today by default."""
    check_range(query.first_day, query.last_day)
    root = await known_node(session, query.agency_code, "agency_code") if query.agency_code is not None else None
    granularity, first_day, last_day = query.granularity, query.first_day, query.last_day
    if first_day is None:
        first_day = periods.default_range(last_day or now.astimezone(tz).date(), granularity)[0]
    if last_day is None:
        last_day = max(now.astimezone(tz).date(), first_day)
    buckets = periods.buckets(first_day, last_day, granularity, tz)
    if buckets is None:
        raise ApiError(
            422,
            "period_too_long",
            f"more than {periods.MAX_BUCKETS} {granularity.value} buckets: shorten the period or choose a coarser one",
        )
    windows = [b.window for b in buckets]
    if root is None:  # the whole hub: from the facts kept per case, not from a cohort of (nearly) every case
        tallies = await hub_tally(session, windows, now)
    else:
        tallies = await tally(session, bucket_cohort(root.path, windows), now, root.path)
    return PeriodStatsList(
        agency_code=root.code if root else None,
        granularity=granularity,
        period_from=buckets[0].first_day,
        period_to=buckets[-1].last_day,
        timezone=tz.key,
        as_of=now,
        items=[
            PeriodStats(
                period=b.label,
                period_start=b.first_day,
                period_end=b.last_day,
                **figures(tallies.get(i, Tally())).model_dump(),
            )
            for i, b in enumerate(buckets)
        ],
    )


async def channel_stats(
    session: AsyncSession, query: ChannelStatsQuery, *, tz: ZoneInfo, now: datetime
) -> ChannelStatsList:
    """One row per channel, for the cases that entered the whole hub (or one node's subtree) in the period."""
    check_range(query.first_day, query.last_day)
    root = await known_node(session, query.agency_code, "agency_code") if query.agency_code is not None else None
    window = periods.window(query.first_day, query.last_day, tz)
    if root is None:  # the whole hub: from the facts kept per case
        tallies: dict[str, Tally] = await channel_tally(session, window, now)
    else:
        tallies = await tally(session, channel_cohort(root.path, window), now, root.path)
    return ChannelStatsList(
        agency_code=root.code if root else None,
        items=[
            ChannelStats(channel=channel, **figures(tallies.get(channel.value, Tally())).model_dump())
            for channel in Channel
        ],
        period_from=query.first_day,
        period_to=query.last_day,
        timezone=tz.key,
        as_of=now,
    )
