"""Reference lists for forms and channels, without a key: cacheable (a strong ETag, `Cache-Control: public,
max-age=300`, 304 on `If-None-Match`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from routing_svc.categories.repository import all_categories, serves
from routing_svc.models import Node
from routing_svc.reference.schemas import (
    AgencyFilter,
    CategoryFilter,
    PublicAgency,
    PublicAgencyList,
    PublicCategory,
    PublicCategoryList,
    PublicRegion,
    PublicRegionList,
    RegionFilter,
)
from shared.domain import Classification, NodeKind
from shared.errors import error_responses, not_found
from shared.http.app import SessionDep
from shared.http.etag import cached_json
from shared.reference.regions import Region, regions

router = APIRouter(prefix="/api/v1/reference", tags=["reference"])

_CACHED: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"ETag": {"schema": {"type": "string"}}}},
    304: {"description": "Not modified"},
}


@router.get("/categories", response_model=PublicCategoryList, responses={**_CACHED, **error_responses(422)})
async def list_categories(
    request: Request, session: SessionDep, query: Annotated[CategoryFilter, Depends()]
) -> Response:
    """The active categories, in tree order; `classification` keeps those that serve it."""
    items = [
        PublicCategory(
            code=c.code,
            name=c.name,
            name_en=c.name_en,
            parent_code=c.parent_code,
            classifications=[Classification(k) for k in c.classifications],
            description=c.description,
            description_en=c.description_en,
        )
        for c in await all_categories(session)
        if c.is_active and (query.classification is None or serves(c, query.classification.value))
    ]
    return cached_json(request, PublicCategoryList(items=items))


def _region(region: Region) -> PublicRegion:
    return PublicRegion(
        code=region.code,
        name=region.name,
        kind=region.kind,
        parent_code=region.parent_code,
        timezone=region.timezone,
    )


@router.get("/regions", response_model=PublicRegionList, responses={**_CACHED, **error_responses(404, 422)})
async def list_regions(request: Request, query: Annotated[RegionFilter, Depends()]) -> Response:
    """The provinces; with `parent_code`, that province's kabupaten/kota (Kemendagri codes and names)."""
    shipped = regions()
    found = shipped.provinces() if query.parent_code is None else shipped.under(query.parent_code)
    if found is None:
        raise not_found("region")
    return cached_json(request, PublicRegionList(items=[_region(r) for r in found]))


@router.get("/agencies", response_model=PublicAgencyList, responses={**_CACHED, **error_responses(422)})
async def list_agencies(request: Request, session: SessionDep, query: Annotated[AgencyFilter, Depends()]) -> Response:
    """The public part of the directory: its active nodes (no keys, officers or contact details)."""
    stmt = (
        select(Node.code, Node.name, Node.kind, Node.parent_code, Node.region_codes, Node.categories)
        .where(Node.is_active.is_(True))
        .order_by(Node.path)
    )
    if query.parent_code is not None:
        stmt = stmt.where(Node.parent_code == query.parent_code)
    items = [
        PublicAgency(
            code=n.code,
            name=n.name,
            kind=NodeKind(n.kind),
            parent_code=n.parent_code,
            region_codes=list(n.region_codes),
            categories=list(n.categories),
        )
        for n in await session.execute(stmt)
    ]
    return cached_json(request, PublicAgencyList(items=items))
