"""Category queries. The tree is small (hundreds of categories): listings read it whole and order it in Python."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.models import Category

MAX_LEVELS = 6
"""How deep the tree may be: a top-level category and five levels under it."""


async def get_category(session: AsyncSession, code: str, *, for_update: bool = False) -> Category | None:
    stmt = select(Category).where(Category.code == code)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def is_known(session: AsyncSession, code: str) -> bool:
    """True if `code` (compared in lower case) is an active category."""
    stmt = select(Category.is_active).where(Category.code == code.strip().lower())
    return bool((await session.execute(stmt)).scalar_one_or_none())


async def lineage(session: AsyncSession, code: str) -> list[str]:
    """`code` (in lower case) and its ancestors, nearest first, in one recursive query; [] for an unknown code."""
    table = Category.__table__
    up = (
        select(table.c.code, table.c.parent_code, literal(0).label("n"))
        .where(table.c.code == code.strip().lower())
        .cte("up", recursive=True)
    )
    parent = table.alias("parent")
    up = up.union_all(
        select(parent.c.code, parent.c.parent_code, up.c.n + 1).where(
            parent.c.code == up.c.parent_code, up.c.n < MAX_LEVELS
        )
    )
    return list((await session.execute(select(up.c.code).order_by(up.c.n))).scalars())


def serves(category: Category, classification: str) -> bool:
    """True if the category serves `classification` (an empty list serves all)."""
    return not category.classifications or classification in category.classifications


async def any_category(session: AsyncSession) -> bool:
    return (await session.execute(select(Category.code).limit(1))).first() is not None


async def all_categories(session: AsyncSession) -> list[Category]:
    """The whole tree, in tree order."""
    return tree_order((await session.execute(select(Category))).scalars())


def tree_order(categories: Iterable[Category]) -> list[Category]:
    """Each category before its children, siblings by code; a category whose parent is missing comes as a root."""
    items = list(categories)
    codes = {c.code for c in items}
    children: dict[str | None, list[Category]] = {}
    for c in items:
        children.setdefault(c.parent_code if c.parent_code in codes else None, []).append(c)
    ordered: list[Category] = []
    stack = sorted(children.get(None, []), key=lambda c: c.code, reverse=True)
    while stack:
        c = stack.pop()
        ordered.append(c)
        stack.extend(sorted(children.get(c.code, []), key=lambda k: k.code, reverse=True))
    return ordered
