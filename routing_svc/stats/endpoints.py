"""Statistics per node (its subtree included) and per period, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response

from routing_svc.auth import StaffDep
from routing_svc.dependencies import CaseCtxDep
from routing_svc.stats import service
from routing_svc.stats.definitions import DEFINITIONS
from routing_svc.stats.export import WantsCsv, csv_response, csv_responses
from routing_svc.stats.periods import MAX_BUCKETS
from routing_svc.stats.schemas import (
    AgencyStats,
    AgencyStatsList,
    AgencyStatsQuery,
    ChannelStats,
    ChannelStatsList,
    ChannelStatsQuery,
    PeriodStats,
    PeriodStatsList,
    PeriodStatsQuery,
)
from shared.errors import error_responses
from shared.http.app import SessionDep
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/hub/stats", tags=["statistics"])

ERRORS = """
Errors (JSON): 422 `invalid_period` (`from` after `to`, or a date outside 1970-01-01..2999-12-31),
422 `unknown_agency` (no such node), 422 `validation_error` (a malformed parameter).
"""


@router.get(
    "/agencies",
    response_model=AgencyStatsList,
    status_code=200,
    summary="Statistics per node",
    description=f"""One row per node in tree order (paged), or per child of `parent_code`; each row covers the node
and its whole subtree, for the period `from`..`to` (both optional). CSV: `format=csv` or `Accept: text/csv`; a CSV
page says in the `X-Next-Offset` header when another page follows.
{ERRORS}
{DEFINITIONS}""",
    responses={**csv_responses(",".join(AgencyStats.model_fields) + "\r\n"), **error_responses(401, 403, 422)},
)
async def stats_per_agency(
    session: SessionDep,
    ctx: CaseCtxDep,
    _: StaffDep,
    query: Annotated[AgencyStatsQuery, Depends()],
    as_csv: WantsCsv,
    page: PageDep,
) -> AgencyStatsList | Response:
    """Per node and its subtree: received, followed up, completed, overdue, first response, SLA, rating."""
    stats = await service.agency_stats(session, query, page, tz=ZoneInfo(ctx.sla.hub_timezone), now=ctx.clock.now())
    if as_csv:
        more = {"X-Next-Offset": str(stats.next_offset)} if stats.next_offset is not None else None
        return csv_response(AgencyStats, stats.items, "simpul-stats-agencies.csv", more)
    return stats


@router.get(
    "/periods",
    response_model=PeriodStatsList,
    status_code=200,
    summary="Statistics per period",
    description=f"""One row per bucket (`granularity`: day, ISO week from Monday, month, quarter, year; in the hub
timezone) for the subtree of `agency_code`, or the whole hub without it. The buckets are whole: the period
`from`..`to` is widened to the buckets that hold it. Left out, `to` is today and `from` makes 12 buckets; at most
{MAX_BUCKETS} buckets (422 `period_too_long`). Empty buckets are listed with zeros. CSV: `format=csv` or
`Accept: text/csv`.
{ERRORS}
{DEFINITIONS}""",
    responses={**csv_responses(",".join(PeriodStats.model_fields) + "\r\n"), **error_responses(401, 403, 422)},
)
async def stats_per_period(
    session: SessionDep,
    ctx: CaseCtxDep,
    _: StaffDep,
    query: Annotated[PeriodStatsQuery, Depends()],
    as_csv: WantsCsv,
) -> PeriodStatsList | Response:
    """Per period bucket, for one node's subtree or the whole hub: the same figures as per node."""
    stats = await service.period_stats(session, query, tz=ZoneInfo(ctx.sla.hub_timezone), now=ctx.clock.now())
    if as_csv:
        return csv_response(PeriodStats, stats.items, f"simpul-stats-{query.granularity.value}.csv")
    return stats


@router.get(
    "/channels",
    response_model=ChannelStatsList,
    status_code=200,
    summary="Statistics per channel",
    description=f"""One row per channel (the door a case came in by: web, sms, email, ...; every channel listed) for
the cases that entered the whole hub, or the subtree of `agency_code`, in the period `from`..`to` (both optional):
the same figures as per node, the cohort split by channel, so the rows add up to the hub's (or the node's) row. A case
still in triage has entered no node yet and is not counted. CSV: `format=csv` or `Accept: text/csv`.
{ERRORS}
{DEFINITIONS}""",
    responses={**csv_responses(",".join(ChannelStats.model_fields) + "\r\n"), **error_responses(401, 403, 422)},
)
async def stats_per_channel(
    session: SessionDep,
    ctx: CaseCtxDep,
    _: StaffDep,
    query: Annotated[ChannelStatsQuery, Depends()],
    as_csv: WantsCsv,
) -> ChannelStatsList | Response:
    """Per channel (web, SMS, email, ...): received, followed up, completed, overdue, first response, SLA, rating."""
    stats = await service.channel_stats(session, query, tz=ZoneInfo(ctx.sla.hub_timezone), now=ctx.clock.now())
    if as_csv:
        return csv_response(ChannelStats, stats.items, "simpul-stats-channels.csv")
    return stats
