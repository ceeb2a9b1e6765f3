"""The category tree, as admins keep it (the public read it at /api/v1/reference/categories)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.exc import IntegrityError

from routing_svc.auth import AdminDep, StaffDep
from routing_svc.categories import repository, service
from routing_svc.categories.schemas import CategoryCreate, CategoryList, CategoryOut, CategoryQuery, CategoryUpdate
from routing_svc.dependencies import IdempotencyDep
from routing_svc.models import Category
from shared.errors import ApiError, error_responses, not_found
from shared.http.app import RuntimeDep, SessionDep
from shared.http.paging import PageDep

router = APIRouter(prefix="/api/v1/hub", tags=["categories"])


@router.post(
    "/categories",
    response_model=CategoryOut,
    status_code=201,
    responses=error_responses(401, 403, 409, 422),
)
async def create_category(
    body: CategoryCreate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep, idempotency: IdempotencyDep
) -> CategoryOut:
    """Add a category (admin); `category_exists` if the code is taken, `unknown_parent` if there is no such parent."""

    async def act() -> CategoryOut:
        now = runtime.clock.now()
        category = await service.create_category(session, runtime.outbox, body, now, actor=principal.actor)
        return service.category_out(category)

    try:
        return await idempotency.commit_once(session, CategoryOut, act)
    except IntegrityError as exc:
        raise ApiError(409, "category_exists", f"a category with code {body.code!r} already exists") from exc


@router.get("/categories", response_model=CategoryList, status_code=200, responses=error_responses(401, 403, 422))
async def list_categories(
    session: SessionDep, _: StaffDep, query: Annotated[CategoryQuery, Depends()], page: PageDep
) -> CategoryList:
    """List the categories, inactive ones too, in tree order."""
    found = [c for c in await repository.all_categories(session) if _fits(c, query)]
    items = found[page.offset : page.offset + page.limit + 1]
    return CategoryList(
        items=[service.category_out(c) for c in items[: page.limit]], next_offset=page.next_offset(len(items))
    )


def _fits(category: Category, query: CategoryQuery) -> bool:
    if query.active is not None and category.is_active != query.active:
        return False
    return query.classification is None or repository.serves(category, query.classification.value)


@router.get("/categories/{code}", response_model=CategoryOut, status_code=200, responses=error_responses(401, 403, 404))
async def get_category(code: str, session: SessionDep, _: StaffDep) -> CategoryOut:
    """One category."""
    category = await repository.get_category(session, code.strip().lower())
    if category is None:
        raise not_found("category")
    return service.category_out(category)


@router.patch(
    "/categories/{code}",
    response_model=CategoryOut,
    status_code=200,
    responses=error_responses(401, 403, 404, 422),
)
async def update_category(
    code: str, body: CategoryUpdate, session: SessionDep, runtime: RuntimeDep, principal: AdminDep
) -> CategoryOut:
    """Change a category (admin): rename, move (`cycle` if under itself), classifications, (de)activate."""
    now = runtime.clock.now()
    category = await service.update_category(session, runtime.outbox, code, body, now, actor=principal.actor)
    await session.commit()
    return service.category_out(category)
