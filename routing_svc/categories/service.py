"""Category writes: create and change categories (the tree stays a tree), seed the default tree into an empty table,
and publish category.changed for each, so that intake_svc keeps its replica."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.categories.repository import MAX_LEVELS, all_categories, any_category, get_category, lineage
from routing_svc.categories.schemas import CategoryCreate, CategoryOut, CategoryUpdate
from routing_svc.models import KIT, Category
from shared import audit
from shared.domain import Classification
from shared.errors import ApiError, not_found
from shared.events.contracts import CategoryChanged
from shared.logging import get_logger
from shared.outbox import Outbox

log = get_logger(__name__)

DEFAULT_TREE = Path(__file__).with_name("default_tree.json")
SEED_ACTOR = "routing:default-categories"


def category_out(category: Category) -> CategoryOut:
    return CategoryOut(
        code=category.code,
        name=category.name,
        name_en=category.name_en,
        parent_code=category.parent_code,
        classifications=[Classification(c) for c in category.classifications],
        description=category.description,
        description_en=category.description_en,
        is_active=category.is_active,
        created_at=category.created_at,
        updated_at=category.updated_at,
    )


def category_event(category: Category) -> CategoryChanged:
    return CategoryChanged(
        code=category.code,
        name=category.name,
        name_en=category.name_en,
        parent_code=category.parent_code,
        classifications=[Classification(c) for c in category.classifications],
        description=category.description,
        description_en=category.description_en,
        is_active=category.is_active,
        version=category.version,
    )


def _exists(code: str) -> ApiError:
    return ApiError(409, "category_exists", f"a category with code {code!r} already exists")


async def _parent(session: AsyncSession, code: str | None) -> list[str]:
    """The lineage of the parent `code` (itself first), [] for none; `unknown_parent` if it does not exist."""
    if code is None:
        return []
    found = await lineage(session, code)
    if not found:
        raise ApiError(422, "unknown_parent", f"parent category {code!r} does not exist")
    return found


def _too_deep(levels: int) -> ApiError:
    return ApiError(422, "too_deep", f"the category tree is at most {MAX_LEVELS} levels deep (this would be {levels})")


async def create_category(
    session: AsyncSession, outbox: Outbox, body: CategoryCreate, now: datetime, *, actor: str
) -> Category:
    if await get_category(session, body.code) is not None:
        raise _exists(body.code)
    parents = await _parent(session, body.parent_code)
    if len(parents) + 1 > MAX_LEVELS:
        raise _too_deep(len(parents) + 1)
    category = Category(
        code=body.code,
        name=body.name,
        name_en=body.name_en,
        parent_code=body.parent_code,
        classifications=[c.value for c in dict.fromkeys(body.classifications)],
        description=body.description,
        description_en=body.description_en,
        is_active=body.is_active,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(category)
    await session.flush()
    await outbox.add(session, category_event(category))
    await _audit(session, actor, "category.create", category, now, fields=sorted(body.model_fields_set))
    log.info("category_created", code=category.code, parent_code=category.parent_code)
    return category


async def update_category(
    session: AsyncSession, outbox: Outbox, code: str, body: CategoryUpdate, now: datetime, *, actor: str
) -> Category:
    category = await get_category(session, code.strip().lower(), for_update=True)
    if category is None:
        raise not_found("category")
    sent = body.model_fields_set
    for field in ("name", "name_en", "is_active"):
        if field in sent and getattr(body, field) is not None:
            setattr(category, field, getattr(body, field))
    for field in ("description", "description_en"):
        if field in sent:
            setattr(category, field, getattr(body, field))
    if "classifications" in sent and body.classifications is not None:
        category.classifications = [c.value for c in dict.fromkeys(body.classifications)]
    if "parent_code" in sent and body.parent_code != category.parent_code:
        await _reparent(session, category, body.parent_code)
    category.version += 1
    category.updated_at = now
    await session.flush()
    await outbox.add(session, category_event(category))
    await _audit(session, actor, "category.update", category, now, fields=sorted(sent))
    log.info("category_updated", code=category.code, is_active=category.is_active)
    return category


async def _reparent(session: AsyncSession, category: Category, parent_code: str | None) -> None:
    """Give `category` a new parent, which may not be itself or under it, nor make the tree too deep."""
    parents = await _parent(session, parent_code)
    if category.code in parents:
        raise ApiError(
            422, "cycle", f"{parent_code!r} is {category.code!r} or under it; the categories must stay a tree"
        )
    levels = len(parents) + _height(await all_categories(session), category.code)
    if levels > MAX_LEVELS:
        raise _too_deep(levels)
    category.parent_code = parent_code


def _height(tree: Sequence[Category], code: str) -> int:
    """How many levels the subtree of `code` spans, itself included."""
    children: dict[str | None, list[str]] = {}
    for c in tree:
        children.setdefault(c.parent_code, []).append(c.code)
    level, height = [code], 0
    while level and height <= MAX_LEVELS:
        height += 1
        level = [child for c in level for child in children.get(c, [])]
    return height


async def _audit(
    session: AsyncSession, actor: str, action: str, category: Category, now: datetime, **details: object
) -> None:
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=actor,
            action=action,
            target_type=audit.Target.category,
            target_id=category.code,
            at=now,
            details={"parent_code": category.parent_code, "is_active": category.is_active, **details},
        ),
    )


def load_tree(path: Path) -> list[CategoryCreate]:
    """A tree file: a JSON list of categories as POST /api/v1/hub/categories takes them, each after its parent."""
    rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [CategoryCreate.model_validate(row) for row in rows]


async def seed_tree(session: AsyncSession, outbox: Outbox, tree: Sequence[CategoryCreate], now: datetime) -> int:
    """Create the categories of `tree` in an empty table (and publish each); 0 if the table has any category."""
    if await any_category(session):
        return 0
    for body in tree:
        await create_category(session, outbox, body, now, actor=SEED_ACTOR)
    log.info("default_categories_seeded", count=len(tree))
    return len(tree)
