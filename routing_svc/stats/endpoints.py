"""Basic statistics per directory node."""

from __future__ import annotations

from fastapi import APIRouter

from routing_svc.auth import StaffDep
from routing_svc.pagination import Limit, Offset, next_offset
from routing_svc.stats.schemas import AgencyStatsList
from routing_svc.stats.service import agency_stats
from shared.errors import error_responses
from shared.http.app import SessionDep

router = APIRouter(prefix="/api/v1/hub", tags=["statistics"])


@router.get(
    "/stats/agencies",
    response_model=AgencyStatsList,
    status_code=200,
    responses=error_responses(401, 403, 422),
)
async def stats_per_agency(session: SessionDep, _: StaffDep, limit: Limit = 50, offset: Offset = 0) -> AgencyStatsList:
    """Per node: received, followed up, completed, overdue, median first response, SLA compliance, mean rating."""
    items = await agency_stats(session, limit, offset)
    return AgencyStatsList(items=items[:limit], next_offset=next_offset(offset, limit, len(items)))
